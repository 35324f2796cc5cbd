/**
 * Clustering of matched pairs into people: union–find over the pairs above the automatic threshold,
 * strongest first, with a guard against chaining (A matches B, B matches C, but A and C are plainly two
 * people). A union is refused when the joined cluster would hold
 * - two different verified government ids, or two different verified birth dates (never, whatever the
 *   evidence), or
 * - two different unverified government-id hashes that no direct automatic match vouches for: differing
 *   identifiers may share a cluster only when a record carrying one was itself matched to a record
 *   carrying the other (an identifier mistyped at capture), never through a third record alone, or
 * - two records that disagree on who they are (`conflicts`, from `evidence.ts`: a different birth date,
 *   a clearly different given name), whichever records link them: a cluster never chains through one
 *   weak link to someone its own members contradict.
 * Records given one `group` (customers already merged) start in one cluster.
 */

/** Values that must not mix in a cluster, per record (-1 when absent). */
export interface ClusterConstraints {
  governmentId: Int32Array;
  governmentIdVerified: Uint8Array;
  birthDate: Int32Array;
  birthDateVerified: Uint8Array;
  /** True when records `a` and `b` must not share a cluster (checked across the two sides of a union). */
  conflicts?: ((a: number, b: number) => boolean) | undefined;
  /** A group number per record (-1 none): records of one group are one cluster from the start. */
  group?: Int32Array | undefined;
}

/** Largest number of record pairs compared across the two sides of one union. */
const MAX_CROSS_CHECKS = 10_000;

/** Clusters as a dense cluster number per record (numbered by first record) and the refused pairs. */
export interface ClusterResult {
  clusterOf: Int32Array;
  clusterCount: number;
  /** Indices (into the edge arrays) of the pairs the guard refused to join. */
  refused: number[];
}

function pairKey(x: number, y: number): number {
  return x < y ? x * 4_294_967_296 + y : y * 4_294_967_296 + x;
}

function addDistinct(target: number[], values: readonly number[]): void {
  for (const v of values) if (!target.includes(v)) target.push(v);
}

/**
 * Joins records along the edges (`a[k]`–`b[k]`, already ordered strongest first) under the guard.
 * Records without any edge are clusters of their own.
 */
export function computeClusters(
  count: number,
  edges: { a: Uint32Array; b: Uint32Array },
  constraints: ClusterConstraints,
): ClusterResult {
  const parent = new Int32Array(count);
  const size = new Int32Array(count).fill(1);
  for (let i = 0; i < count; i++) parent[i] = i;
  const find = (x: number): number => {
    let root = x;
    while ((parent[root] ?? root) !== root) root = parent[root] ?? root;
    let node = x;
    while (node !== root) {
      const next = parent[node] ?? root;
      parent[node] = root;
      node = next;
    }
    return root;
  };

  const gov = constraints.governmentId;
  // Differing identifiers that some direct match put side by side.
  const vouched = new Set<number>();
  for (let k = 0; k < edges.a.length; k++) {
    const ga = gov[edges.a[k] ?? 0] ?? -1;
    const gb = gov[edges.b[k] ?? 0] ?? -1;
    if (ga >= 0 && gb >= 0 && ga !== gb) vouched.add(pairKey(ga, gb));
  }

  const govOf = new Map<number, number[]>();
  const verifiedGovOf = new Map<number, number[]>();
  const verifiedBirthOf = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const g = gov[i] ?? -1;
    if (g >= 0) {
      govOf.set(i, [g]);
      if (constraints.governmentIdVerified[i] === 1) verifiedGovOf.set(i, [g]);
    }
    const d = constraints.birthDate[i] ?? -1;
    if (d >= 0 && constraints.birthDateVerified[i] === 1) verifiedBirthOf.set(i, [d]);
  }

  const conflicts = (ra: number, rb: number): boolean => {
    const va = verifiedGovOf.get(ra);
    const vb = verifiedGovOf.get(rb);
    if (va && vb && va.some((x) => !vb.includes(x))) return true;
    const da = verifiedBirthOf.get(ra);
    const db = verifiedBirthOf.get(rb);
    if (da && db && da.some((x) => !db.includes(x))) return true;
    const ga = govOf.get(ra);
    const gb = govOf.get(rb);
    if (ga && gb) {
      for (const x of ga) for (const y of gb) if (x !== y && !vouched.has(pairKey(x, y))) return true;
    }
    return false;
  };
  const mergeInto = (map: Map<number, number[]>, into: number, from: number) => {
    const source = map.get(from);
    if (source === undefined) return;
    const target = map.get(into);
    if (target === undefined) map.set(into, source);
    else addDistinct(target, source);
    map.delete(from);
  };

  // Members per root, for the pairwise check across a union.
  const pairwise = constraints.conflicts;
  const membersOf = new Map<number, number[]>();
  const members = (root: number): number[] => membersOf.get(root) ?? [root];
  const contradicted = (ra: number, rb: number): boolean => {
    if (pairwise === undefined) return false;
    const ma = members(ra);
    const mb = members(rb);
    if (ma.length * mb.length > MAX_CROSS_CHECKS) return true;
    for (const x of ma) for (const y of mb) if (pairwise(x, y)) return true;
    return false;
  };
  const join = (ra: number, rb: number): void => {
    if ((size[ra] ?? 0) < (size[rb] ?? 0)) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra] = (size[ra] ?? 0) + (size[rb] ?? 0);
    mergeInto(govOf, ra, rb);
    mergeInto(verifiedGovOf, ra, rb);
    mergeInto(verifiedBirthOf, ra, rb);
    if (pairwise !== undefined) {
      membersOf.set(ra, [...members(ra), ...members(rb)]);
      membersOf.delete(rb);
    }
  };

  // Groups (records of one customer) are joined first and unconditionally: they are one already.
  if (constraints.group !== undefined) {
    const firstOfGroup = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const g = constraints.group[i] ?? -1;
      if (g < 0) continue;
      const first = firstOfGroup.get(g);
      if (first === undefined) firstOfGroup.set(g, i);
      else {
        const ra = find(first);
        const rb = find(i);
        if (ra !== rb) join(ra, rb);
      }
    }
  }

  const refused: number[] = [];
  for (let k = 0; k < edges.a.length; k++) {
    const ra = find(edges.a[k] ?? 0);
    const rb = find(edges.b[k] ?? 0);
    if (ra === rb) continue;
    if (conflicts(ra, rb) || contradicted(ra, rb)) {
      refused.push(k);
      continue;
    }
    join(ra, rb);
  }

  const clusterOf = new Int32Array(count);
  const numberOfRoot = new Int32Array(count).fill(-1);
  let clusterCount = 0;
  for (let i = 0; i < count; i++) {
    const root = find(i);
    if ((numberOfRoot[root] ?? -1) < 0) numberOfRoot[root] = clusterCount++;
    clusterOf[i] = numberOfRoot[root] ?? 0;
  }
  return { clusterOf, clusterCount, refused };
}
