import { describe, expect, it } from 'vitest';
import { areNicknames, nicknameGroups, nicknameGroupsAsTyped, nicknamesOf } from './nicknames.ts';

describe('nicknames', () => {
  it('knows short forms and variants across languages, both ways', () => {
    expect(areNicknames('william', 'bill')).toBe(true);
    expect(areNicknames('bill', 'william')).toBe(true);
    expect(areNicknames('francisco', 'paco')).toBe(true);
    expect(areNicknames('muhammad', 'mohammed')).toBe(true);
    expect(areNicknames('alex', 'alexandra')).toBe(true);
    expect(areNicknames('william', 'robert')).toBe(false);
    expect(nicknameGroups('zebedee')).toEqual([]);
    expect(nicknamesOf('robert')).toContain('bob');
  });

  it('knows a mistyped name of five letters or more by the table name one edit away', () => {
    const shares = (a: string, b: string) =>
      nicknameGroupsAsTyped(a).some((g) => nicknameGroupsAsTyped(b).includes(g));
    expect(shares('eddei', 'edward')).toBe(true);
    expect(shares('margarett', 'meg')).toBe(true);
    expect(shares('nichloas', 'nick')).toBe(true);
    // Short names are not guessed: "jm" or "bbo" could be anything.
    expect(nicknameGroupsAsTyped('bbo')).toEqual([]);
    expect(nicknameGroupsAsTyped('zebedee')).toEqual([]);
    expect(areNicknames('krzysztof', 'krzysiek')).toBe(true);
    expect(areNicknames('jakub', 'kuba')).toBe(true);
  });
});
