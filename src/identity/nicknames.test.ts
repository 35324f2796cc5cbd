import { describe, expect, it } from 'vitest';
import { areNicknames, nicknameGroups, nicknamesOf } from './nicknames.ts';

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
});
