import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PODMAN_TABWRITER, renderTable, tabwrite } from './table.js';

describe('tabwrite (Go text/tabwriter)', () => {
  // The outputs of the examples in Go's text/tabwriter documentation.
  it('Example_elastic: columns are blocks of consecutive lines', () => {
    const src = 'a\tb\tc\naa\tbb\tcc\naaa\t\naaaa\tdddd\teeee\n';
    const want = '....a|..b|c\n...aa|.bb|cc\n..aaa|\n.aaaa|.dddd|eeee\n';
    assert.equal(tabwrite(src, { minWidth: 0, tabWidth: 0, padding: 1, padChar: '.', alignRight: true, debug: true }), want);
  });

  it('Example_trailingTab: a final cell without a tab is not aligned', () => {
    const src = 'a\tb\taligned\t\naa\tbb\taligned\t\naaa\tbbb\tunaligned\naaaa\tbbbb\taligned\t\n';
    const want = '------a|------b|---aligned|\n-----aa|-----bb|---aligned|\n----aaa|----bbb|unaligned\n---aaaa|---bbbb|---aligned|\n';
    assert.equal(tabwrite(src, { minWidth: 0, tabWidth: 0, padding: 3, padChar: '-', alignRight: true, debug: true }), want);
  });

  it('ExampleWriter_Init: tab padding', () => {
    const src = 'a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n';
    const want = 'a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n';
    assert.equal(tabwrite(src, { minWidth: 0, tabWidth: 8, padding: 0, padChar: '\t' }), want);
  });

  it('ExampleWriter_Init: right-aligned with a minimal width', () => {
    const src = 'a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n';
    const want = '    a     b       c         d.\n  123 12345 1234567 123456789.\n\n';
    assert.equal(tabwrite(src, { minWidth: 5, tabWidth: 0, padding: 1, padChar: ' ', alignRight: true }), want);
  });

  // containers/common pkg/report tests, which run through tabwriter(12, 2, 2, ' ').
  it('podman: wide first column', () => {
    const src = 'Identity\tValue\nc061a0839e\tone\nf10fc2e11057\ttwo\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n';
    const want =
      'Identity                          Value\nc061a0839e                        one\nf10fc2e11057                      two\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n';
    assert.equal(tabwrite(src), want);
  });

  it('podman: cells run together on one line', () => {
    const src = 'Value\tIdent\nIdentity\tID\nValue\tIdent\nc061a0839e\tIDf10fc2e11057\tID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID\n';
    const want = 'Value       Ident\nIdentity    ID\nValue       Ident\nc061a0839e  IDf10fc2e11057  ID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  ID\n';
    assert.equal(tabwrite(src), want);
  });

  it('podman with Debug and minwidth 8, padding 1', () => {
    const src = 'Identity\tValue\nc061a0839e\tone\nf10fc2e11057\ttwo\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n';
    const want =
      'Identity                         |Value\nc061a0839e                       |one\nf10fc2e11057                     |two\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a |three\n';
    assert.equal(tabwrite(src, { minWidth: 8, tabWidth: 1, padding: 1, padChar: ' ', debug: true }), want);
  });

  const cases: [string, string, string][] = [
    ['empty input', '', ''],
    ['text without tabs passes through', 'hello\nworld\n', 'hello\nworld\n'],
    ['no final newline keeps the partial line', 'a\tb\nc\td', 'a           b\nc           d'],
    ['a tab-terminated last cell after the final newline is not aligned', 'a\tb\nc\t', 'a           b\nc'],
    ['minwidth 12 pads short columns', 'a\tb\tc\n', 'a           b           c\n'],
    ['width is the widest cell plus 2', 'abcdefghijklm\tx\nab\ty\n', 'abcdefghijklm  x\nab             y\n'],
    ['empty cells are padded too', '\tx\na\ty\n', '            x\na           y\n'],
    ['a line without tabs splits the column blocks', 'aaaaaaaaaaaaaaaaaaaa\tb\nsingle\nc\td\n', 'aaaaaaaaaaaaaaaaaaaa  b\nsingle\nc           d\n'],
    ['an empty line splits the column blocks', 'aaaaaaaaaaaaaaaaaaaa\tb\n\nc\td\n', 'aaaaaaaaaaaaaaaaaaaa  b\n\nc           d\n'],
    ['widths count characters, not bytes', 'héllo wörld ☃☃\tx\nab\ty\n', 'héllo wörld ☃☃  x\nab              y\n'],
    ['a form feed is a line break', 'a\tb\fc\td\n', 'a           b\nc           d\n'],
  ];
  for (const [name, src, want] of cases) it(name, () => assert.equal(tabwrite(src), want));

  it('uses podman settings by default', () => assert.deepEqual(PODMAN_TABWRITER, { minWidth: 12, tabWidth: 2, padding: 2, padChar: ' ' }));

  it('discards empty columns when asked', () => {
    assert.equal(tabwrite('a\t\tb\nc\t\td\n', { minWidth: 0, padding: 1, discardEmptyColumns: true }), 'a b\nc d\n');
    assert.equal(tabwrite('a\t\tb\nc\t\td\n', { minWidth: 0, padding: 1 }), 'a  b\nc  d\n');
  });
});

describe('renderTable', () => {
  it('prints podman images the way podman does', () => {
    const out = renderTable(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      [
        ['quay.io/podman/hello', 'latest', 'e2b3db5d4fdf', '2 weeks ago', '1.46 MB'],
        ['docker.io/library/alpine', '3.19', '05455a08881e', '3 months ago', '7.67 MB'],
      ],
    );
    assert.equal(
      out,
      [
        'REPOSITORY                TAG         IMAGE ID      CREATED       SIZE',
        'quay.io/podman/hello      latest      e2b3db5d4fdf  2 weeks ago   1.46 MB',
        'docker.io/library/alpine  3.19        05455a08881e  3 months ago  7.67 MB',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header for no rows', () => assert.equal(renderTable(['ID', 'NAME'], []), 'ID          NAME\n'));
  it('leaves the header out when there is none', () => assert.equal(renderTable([], [['a', 'b']]), 'a           b\n'));
  it('prints nothing for nothing', () => assert.equal(renderTable([], []), ''));
  it('does not pad the last column', () => assert.equal(renderTable(['A', 'LONG LAST'], [['x', 'y']]), 'A           LONG LAST\nx           y\n'));
  it('takes other tabwriter settings', () => assert.equal(renderTable(['A', 'B'], [['x', 'y']], { minWidth: 0, padding: 1 }), 'A B\nx y\n'));
  it('handles ragged rows as tabwriter does', () => {
    assert.equal(renderTable(['A', 'B', 'C'], [['1'], ['2', '3', '4']]), 'A           B           C\n1\n2           3           4\n');
  });
});
