import type { paths } from '../generated/schema';

/** The JSON answer of an operation for a status, read from the generated OpenAPI types. */
export type Answer<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends number = 200,
> = paths[P][M] extends { responses: infer R }
  ? S extends keyof R
    ? R[S] extends { content: { 'application/json': infer T } }
      ? T
      : never
    : never
  : never;

export type SessionInfo = Answer<'/v1/sessions', 'post', 201>;
export type Customer = Answer<'/v1/customers/{id}', 'get'>['customer'];
export type CustomerList = Answer<'/v1/customers', 'get'>['customers'];
export type Timeline = Answer<'/v1/customers/{id}/timeline', 'get'>;
export type Consents = Answer<'/v1/customers/{id}/consents', 'get'>;
export type PrivacyState = Answer<'/v1/customers/{id}/privacy', 'get'>;
export type Review = Answer<'/v1/identity/reviews', 'get'>['reviews'][number];
export type AccessLog = Answer<'/v1/customers/{id}/access-log', 'get'>['entries'];
export type Disclosures = Answer<'/v1/customers/{id}/disclosures', 'get'>['disclosures'];
export type Customer360 = Answer<'/v1/customers/{id}/360', 'get'>;
export type Facts = Answer<'/v1/customers/{id}/facts', 'get'>;
export type Relationship = Answer<'/v1/customers/{id}/relationship', 'get'>;
export type Recommendations = Answer<'/v1/customers/{id}/recommendations', 'get'>;
export type JobStatus = Answer<'/v1/jobs', 'get'>;
export type JobFailures = Answer<'/v1/jobs/failures', 'get'>['failures'];
export type Recipients = Answer<'/v1/recipients', 'get'>['recipients'];
export type Deliveries = Answer<'/v1/recipients/{id}/deliveries', 'get'>['deliveries'];
