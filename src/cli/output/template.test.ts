import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { camelSplit, defaultHeader, enforceRange, hasTable, isJsonFormat, normalizeFormat, parseTemplate, renderReport, renderTemplate } from './template.js';

const data = {
  Repository: 'quay.io/x',
  Tag: 'latest',
  ID: 'abc',
  Size: 1234,
  Ok: true,
  No: false,
  Zero: 0,
  Empty: '',
  Names: ['a', 'b'],
  Labels: { 'org.x': 'y', maintainer: 'me' },
  Nested: { Inner: { Deep: 'v' } },
  Nil: null,
  Float: 1.5,
  Created: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  Method: () => 'm',
  Greet: (name: string) => `hi ${name}`,
};

describe('Go template execution', () => {
  const cases: [string, string][] = [
    ['plain text', 'plain text'],
    ['', ''],
    ['{{.Repository}}:{{.Tag}}', 'quay.io/x:latest'],
    ['{{.Size}} {{.Float}} {{.Zero}}', '1234 1.5 0'],
    ['{{.Ok}} {{.No}}', 'true false'],
    ['{{.Names}}', '[a b]'],
    ['{{.Labels}}', 'map[maintainer:me org.x:y]'],
    ['{{.Nested.Inner.Deep}}', 'v'],
    ['{{.Nested.Inner}}', 'map[Deep:v]'],
    ['{{.Nil}}', '<no value>'],
    ['{{.Labels.missing}}', '<no value>'],
    ['{{.Labels.maintainer}}', 'me'],
    ['{{.Created}}', '2024-01-02 03:04:05 +0000 UTC'],
    ['{{.Method}}', 'm'],
    ['{{.Greet "bob"}}', 'hi bob'],
    ['{{"bob" | .Greet}}', 'hi bob'],
    ['{{.Nested}} {{.Labels}}', 'map[Inner:map[Deep:v]] map[maintainer:me org.x:y]'],
    // json
    ['{{json .Names}}', '["a","b"]'],
    ['{{json .Labels}}', '{"org.x":"y","maintainer":"me"}'],
    ['{{json .Tag}}', '"latest"'],
    ['{{json .Size}}', '1234'],
    ['{{json "<a&b>"}}', '"<a&b>"'],
    ['{{json .Nil}}', 'null'],
    ['{{json .Labels.missing}}', 'null'],
    ['{{json .Created}}', '"2024-01-02T03:04:05Z"'],
    ['{{json .Nested}}', '{"Inner":{"Deep":"v"}}'],
    // podman's functions
    ['{{.Tag | upper}}', 'LATEST'],
    ['{{upper .Tag}}', 'LATEST'],
    ['{{lower "ABC"}}', 'abc'],
    ['{{title "hello world-foo bar_baz"}}', 'Hello World-Foo Bar_baz'],
    ['{{truncate .Repository 5}}', 'quay.'],
    ['{{truncate "ab" 5}}', 'ab'],
    ['{{truncate "ab" 2}}', 'ab'],
    ['{{join .Names ", "}}', 'a, b'],
    ['{{split "a:b:c" ":"}}', '[a b c]'],
    ['{{split "abc" ""}}', '[a b c]'],
    ['{{join (split "a:b" ":") "-"}}', 'a-b'],
    ['{{pad .Tag 2 1}}|', '  latest |'],
    ['{{pad .Empty 2 1}}|', '|'],
    // range
    ['{{range .Names}}[{{.}}]{{end}}', '[a][b]'],
    ['{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}', '0=a 1=b '],
    ['{{range $n := .Names}}{{$n}}{{end}}', 'ab'],
    ['{{range .Nil}}x{{else}}none{{end}}', 'none'],
    ['{{range .Labels}}{{.}};{{end}}', 'me;y;'],
    ['{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}', 'maintainer=me;org.x=y;'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{range .Names}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', 'a'],
    ['{{range .Names}}{{if eq . "a"}}{{continue}}{{end}}{{.}}{{end}}', 'b'],
    ['{{range .Names}}{{$.Tag}}{{end}}', 'latestlatest'],
    ['{{range $i, $n := .Names}}{{if $i}},{{end}}{{$n}}{{end}}', 'a,b'],
    // if / with
    ['{{if .Ok}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .No}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Zero}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Empty}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Nil}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Names}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .Labels}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .Nested}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .Labels.missing}}yes{{else}}no{{end}}', 'no'],
    ['{{if .No}}a{{else if .Ok}}b{{else}}c{{end}}', 'b'],
    ['{{if .No}}a{{else if .Zero}}b{{else}}c{{end}}', 'c'],
    ['{{if $x := .Tag}}{{$x}}{{end}}', 'latest'],
    ['{{if $x := .Empty}}{{else}}[{{$x}}]{{end}}', '[]'],
    ['{{with .Nested.Inner}}{{.Deep}}{{end}}', 'v'],
    ['{{with .Empty}}x{{else}}y{{end}}', 'y'],
    ['{{with .No}}x{{else with .Tag}}{{.}}{{end}}', 'latest'],
    ['{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}', 'quay.io/x'],
    // variables
    ['{{$x := .Tag}}{{$x}}', 'latest'],
    ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
    ['{{$x := .Nested}}{{$x.Inner.Deep}}', 'v'],
    ['{{$.Tag}} {{with .Nested}}{{$.ID}}{{end}}', 'latest abc'],
    // index, len, slice
    ['{{index .Labels "org.x"}}', 'y'],
    ['{{index .Labels "none"}}', ''],
    ['{{index .Names 1}}', 'b'],
    ['{{index .Nested "Inner" "Deep"}}', 'v'],
    ['{{len .Names}} {{len .Tag}} {{len .Labels}} {{len "héllo"}}', '2 6 2 6'],
    ['{{slice .Tag 1 3}} {{slice .Tag 4}} {{slice .Names 1}}', 'at st [b]'],
    // printf and friends
    ['{{printf "%s-%d" .Tag .Size}}', 'latest-1234'],
    ['{{printf "%.1f" .Float}}', '1.5'],
    ['{{printf "%q" .Tag}}', '"latest"'],
    ['{{printf "%-8s|" .ID}}', 'abc     |'],
    ['{{printf "%v" .Names}}', '[a b]'],
    ['{{.Tag | printf "<%s>"}}', '<latest>'],
    ['{{print "a" 1 2 "b"}}', 'a1 2b'],
    ['{{println "a" 1}}', 'a 1\n'],
    // logic and comparisons
    ['{{and .Ok .Tag}}', 'latest'],
    ['{{and .No .Tag}}', 'false'],
    ['{{and .Ok .Nil .Missing}}', '<no value>'],
    ['{{or .Empty .Tag}}', 'latest'],
    ['{{or .Empty .Zero}}', '0'],
    ['{{not .Ok}} {{not .Empty}}', 'false true'],
    ['{{eq .Tag "latest"}} {{eq .Tag "a" "latest"}} {{eq .Size 1234}}', 'true true true'],
    ['{{ne .Size 1}} {{ne .Tag "latest"}}', 'true false'],
    ['{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2}}', 'true true true false true'],
    ['{{eq .Nil nil}}', 'true'],
    ['{{if and .Ok (eq .Tag "latest")}}both{{end}}', 'both'],
    ['{{if or (eq .Tag "x") (gt .Size 1000)}}one{{end}}', 'one'],
    // escaping builtins
    ['{{html "<a href=\'x\'>&</a>"}}', '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;'],
    ['{{urlquery "a b&c"}}', 'a+b%26c'],
    ['{{js "it\'s"}}', "it\\'s"],
    // lexical details
    ['{{/* comment */}}x', 'x'],
    ['a  {{- .Tag -}}  b', 'alatestb'],
    ['a {{- /* c */ -}} b', 'ab'],
    ['a\n{{- .Tag}}\n', 'alatest\n'],
    ['{{"\\t"}}|{{`raw\\n`}}', '\t|raw\\n'],
    ['{{"\\u00e9\\x41"}}', 'éA'],
    ['{{(index .Names 0) | upper}}', 'A'],
    ['{{(.Nested).Inner.Deep}}', 'v'],
    ['{{1.5}} {{0x1F}} {{-3}} {{1e3}} {{1_000}}', '1.5 31 -3 1000 1000'],
    ["{{'a'}}", '97'],
    ['{{ .Tag }}', 'latest'],
    ['{{true}} {{false}}', 'true false'],
    ['{{ .Tag | printf "%s" | upper | printf "[%s]" }}', '[LATEST]'],
    ['{{.Tag}}}}', 'latest}}'],
    ['{{"}}"}}', '}}'],
  ];
  for (const [src, want] of cases) it(JSON.stringify(src), () => assert.equal(renderTemplate(src, data), want));

  it('calls functions passed in options', () => {
    assert.equal(renderTemplate('{{shout .Tag}}', data, { funcs: { shout: (s: string) => `${s}!` } }), 'latest!');
  });

  it('treats the rows of a list as structs', () => {
    assert.equal(renderTemplate('{{range .}}{{.A}},{{end}}', [{ A: 1 }, { A: 2 }]), '1,2,');
    assert.throws(() => renderTemplate('{{range .}}{{.B}}{{end}}', [{ A: 1 }]), /can't evaluate field B/);
  });

  it('treats Map values as Go maps', () => {
    assert.equal(
      renderTemplate('{{.M.b}}|{{.M.z}}|{{range $k, $v := .M}}{{$k}}{{$v}}{{end}}', {
        M: new Map([
          ['b', 2],
          ['a', 1],
        ]),
      }),
      '2|<no value>|a1b2',
    );
  });

  it('can be parsed once and executed many times', () => {
    const t = parseTemplate('{{.A}}');
    assert.equal(t.execute({ A: 1 }), '1');
    assert.equal(t.execute({ A: 'x' }), 'x');
    assert.equal(t.source, '{{.A}}');
  });
});

describe('Go template errors', () => {
  const cases: [string, RegExp | string][] = [
    ['{{.Foo}}', 'template: format:1:2: executing "format" at <.Foo>: can\'t evaluate field Foo in type struct'],
    ['x\n  {{.Foo}}', 'template: format:2:4: executing "format" at <.Foo>: can\'t evaluate field Foo in type struct'],
    ['{{.Tag.Foo}}', /at <\.Tag\.Foo>: can't evaluate field Foo in type string$/],
    ['{{.Names.Foo}}', /can't evaluate field Foo in type \[\]interface \{\}$/],
    ['{{.Nested.Nope}}', /can't evaluate field Nope in type struct$/],
    ['{{.Size.X}}', /can't evaluate field X in type int$/],
    ['{{nofunc .Tag}}', 'template: format:1: function "nofunc" not defined'],
    ['{{if .Ok}}', 'template: format:1: unexpected EOF'],
    ['{{range .Names}}\n{{.}}', 'template: format:2: unexpected EOF'],
    ['{{end}}', 'template: format:1: unexpected {{end}}'],
    ['{{else}}', 'template: format:1: unexpected {{else}}'],
    ['{{.Tag', 'template: format:1: unclosed action'],
    ['{{"abc}}', 'template: format:1: unterminated quoted string'],
    ['{{`abc}}', 'template: format:1: unterminated raw quoted string'],
    ['{{/* abc }}', 'template: format:1: unclosed comment'],
    ['{{}}', 'template: format:1: missing value for command'],
    ['{{if}}{{end}}', 'template: format:1: missing value for if'],
    ['{{.Tag | }}', /missing command/],
    ['{{(.Tag}}', /unclosed left paren/],
    ['{{index .Names 5}}', 'template: format:1:2: executing "format" at <index .Names 5>: error calling index: index out of range: 5'],
    ['{{join .Tag ","}}', /error calling join: wrong type for value; expected \[\]string; got string$/],
    ['{{upper}}', /wrong number of args for upper: want 1 got 0$/],
    ['{{printf}}', /wrong number of args for printf: want at least 1 got 0$/],
    ['{{.Tag | upper "x"}}', /wrong number of args for upper: want 1 got 2$/],
    ['{{.Tag 1}}', /Tag has arguments but cannot be invoked as function$/],
    ['{{"x" | .Tag}}', /Tag has arguments but cannot be invoked as function$/],
    ['{{.Tag | "x"}}', /can't give argument to non-function "x"$/],
    ['{{$x}}', 'template: format:1: undefined variable "$x"'],
    ['{{$x = 1}}', 'template: format:1: undefined variable "$x"'],
    ['{{range .Names}}{{$y := 1}}{{end}}{{$y}}', /undefined variable "\$y"/],
    ['{{break}}', 'template: format:1: {{break}} outside {{range}}'],
    ['{{eq .Tag 1}}', /error calling eq: incompatible types for comparison$/],
    ['{{eq .Names 1}}', /error calling eq: invalid type for comparison$/],
    ['{{lt .Tag 1}}', /error calling lt: incompatible types for comparison$/],
    ['{{range .Tag}}{{end}}', /range can't iterate over latest$/],
    ['{{template "x"}}', /\{\{template\}\} is not supported/],
    ['{{define "x"}}{{end}}', /\{\{define\}\} is not supported/],
    ['{{nil}}', 'template: format:1: nil is not a command'],
    ['{{len .Size}}', /error calling len: len of type int$/],
    ['{{truncate .Tag -1}}', /error calling truncate/],
    ['{{3x}}', /bad number syntax/],
    ['{{.Tag ~}}', "template: format:1: unrecognized character in action: U+007E '~'"],
    ['{{end 1}}', 'template: format:1: unexpected "1" in end'],
    ['{{if .Ok}}{{else "x"}}{{end}}', 'template: format:1: unexpected "\\"x\\"" in else'],
  ];
  for (const [src, want] of cases) {
    it(JSON.stringify(src), () => {
      assert.throws(
        () => renderTemplate(src, data),
        (e: unknown) => {
          assert.ok(isBerthError(e, 'USAGE'), `not a USAGE BerthError: ${String(e)}`);
          if (typeof want === 'string') assert.equal(e.message, want);
          else assert.match(e.message, want);
          return true;
        },
      );
    });
  }

  it('names the template as asked', () => {
    assert.throws(() => renderTemplate('{{.Foo}}', data, { name: 'images' }), {
      message: 'template: images:1:2: executing "images" at <.Foo>: can\'t evaluate field Foo in type struct',
    });
  });

  it('counts columns in bytes, as Go does', () => {
    assert.throws(() => renderTemplate('é{{.Foo}}', data), { message: /format:1:4:/ });
  });

  it('reports a function that throws', () => {
    assert.throws(
      () =>
        renderTemplate('{{.Boom}}', {
          Boom: () => {
            throw new Error('bad');
          },
        }),
      { message: /at <\.Boom>: error calling Boom: bad$/ },
    );
  });
});

describe('podman report helpers', () => {
  // containers/common pkg/report TestNormalizeFormat
  const normalize: [string, string][] = [
    ['{{.ID}}\t{{.ID}}', '{{.ID}}\t{{.ID}}\n'],
    ['{{.ID}}\\t{{.ID}}', '{{.ID}}\t{{.ID}}\n'],
    ['{{.ID}} {{.ID}}', '{{.ID}} {{.ID}}\n'],
    ['table {{.ID}}\\t{{.ID}}', '{{.ID}}\t{{.ID}}\n'],
    ['table {{.ID}} {{.ID}}', '{{.ID}}\t{{.ID}}\n'],
    ['{{.ID}}\\n', '{{.ID}}\n'],
    ['{{.ID}}\n', '{{.ID}}\n'],
    ['table {{ .ID }}', '{{\t.ID\t}}\n'],
  ];
  for (const [f, want] of normalize) it(`normalizeFormat ${JSON.stringify(f)}`, () => assert.equal(normalizeFormat(f), want));

  it('enforceRange wraps a format that does not range over the rows', () => {
    assert.equal(enforceRange('foobar was here'), '{{range .}}foobar was here{{end -}}');
    assert.equal(enforceRange('{{range .}}foobar was here{{end -}}'), '{{range .}}foobar was here{{end -}}');
    assert.equal(enforceRange('{{range .}}foobar was here{{end}}'), '{{range .}}foobar was here{{end}}');
    assert.equal(enforceRange('{{ range . }}x{{ end }}'), '{{ range . }}x{{ end }}');
    assert.equal(enforceRange('{{range .Names}}x{{end}}'), '{{range .}}{{range .Names}}x{{end}}{{end -}}');
  });

  const json: [string, boolean][] = [
    ['json', true],
    [' json ', true],
    ['{{json}}', true],
    ['{{ json }}', true],
    ['{{json.}}', true],
    ['{{ json. }}', true],
    ['{{json .}}', false],
    ['{{json .ID}}', false],
    ['table json', false],
    ['jsonx', false],
    ['JSON', false],
  ];
  for (const [f, want] of json) it(`isJsonFormat ${JSON.stringify(f)} → ${want}`, () => assert.equal(isJsonFormat(f), want));

  it('hasTable needs "table " at the start', () => {
    assert.equal(hasTable('table foobar'), true);
    assert.equal(hasTable('foobar'), false);
    assert.equal(hasTable('table'), false);
    assert.equal(hasTable(' table {{.ID}}'), false);
  });

  // The examples documented in fatih/camelcase, as vendored by containers/common.
  const camel: [string, string[]][] = [
    ['', []],
    ['lowercase', ['lowercase']],
    ['Class', ['Class']],
    ['MyClass', ['My', 'Class']],
    ['MyC', ['My', 'C']],
    ['HTML', ['HTML']],
    ['PDFLoader', ['PDF', 'Loader']],
    ['AString', ['A', 'String']],
    ['SimpleXMLParser', ['Simple', 'XML', 'Parser']],
    ['vimRPCPlugin', ['vim', 'RPC', 'Plugin']],
    ['GL11Version', ['GL', '11', 'Version']],
    ['99Bottles', ['99', 'Bottles']],
    ['May5', ['May', '5']],
    ['BFG9000', ['BFG', '9000']],
    ['BöseÜberraschung', ['Böse', 'Überraschung']],
    ['Two  spaces', ['Two', '  ', 'spaces']],
  ];
  for (const [s, want] of camel) it(`camelSplit ${JSON.stringify(s)}`, () => assert.deepEqual(camelSplit(s), want));

  const headers: [string, string][] = [
    ['FieldA', 'FIELD A'],
    ['Fieldb', 'FIELDB'],
    ['fieldC', 'FIELD C'],
    ['ID', 'ID'],
    ['CreatedAt', 'CREATED AT'],
    ['RepoTags', 'REPO TAGS'],
    ['ImageID', 'IMAGE ID'],
  ];
  for (const [f, want] of headers) it(`defaultHeader ${f} → ${want}`, () => assert.equal(defaultHeader(f), want));
});

describe('renderReport (podman report.Formatter)', () => {
  const rows = [
    { ID: 'c061a0839e', Value: 'one' },
    { ID: 'f10fc2e11057', Value: 'two' },
    { ID: '1eb6fab5aa8f4b5cbfd3e66aa35e9b2a', Value: 'three' },
  ];
  const headers = { ID: 'Identity', Value: 'Value' };
  const idCol = 'IDENTITY\nc061a0839e\nf10fc2e11057\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n';
  // containers/common pkg/report TestFormatter_ParseTable (its headers are upper-cased by report.Headers).
  const cases: [string, 'user' | 'podman', string][] = [
    ['table {{ .ID}}', 'user', idCol],
    ['table {{ .ID}}\n', 'user', idCol],
    ['table {{ .ID}}\\n', 'user', idCol],
    ['table {{.ID}}', 'user', idCol],
    [
      'table {{.ID}}\t{{.Value}}',
      'user',
      'IDENTITY                          VALUE\nc061a0839e                        one\nf10fc2e11057                      two\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n',
    ],
    ['{{range .}}{{.ID}}\tID{{end}}', 'user', 'c061a0839e\tIDf10fc2e11057\tID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID\n'],
    [
      'Value\tIdent\n{{range .}}{{.ID}}\tID{{end}}',
      'podman',
      'Value       Ident\nIDENTITY    ID\nValue       Ident\nc061a0839e  IDf10fc2e11057  ID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  ID\n',
    ],
    ['{{range .}}{{.ID}}\tID\n{{end}}', 'user', 'c061a0839e\tID\nf10fc2e11057\tID\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID\n\n'],
    ['{{range .}}{{.ID}}{{end -}}', 'user', 'c061a0839ef10fc2e110571eb6fab5aa8f4b5cbfd3e66aa35e9b2a'],
    ['{{range .}}{{printf "\\n"}}{{end -}}', 'user', '\n\n\n'],
    ['{{.ID}}', 'user', 'c061a0839e\nf10fc2e11057\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n'],
    ['{{.ID}}\\t{{.Value}}', 'user', 'c061a0839e\tone\nf10fc2e11057\ttwo\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n'],
    [
      '{{range . }}{{.ID}}\t{{.Value}}\n{{end -}}',
      'podman',
      'IDENTITY                          VALUE\nc061a0839e                        one\nf10fc2e11057                      two\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n',
    ],
  ];
  for (const [f, origin, want] of cases) it(`${origin} ${JSON.stringify(f)}`, () => assert.equal(renderReport(f, rows, { headers, origin }), want));

  it('TestFormatter_Compatible: a tab in a plain format is kept', () => {
    assert.equal(renderReport('ID\t{{.ID}}', [{ ID: 'c061a0839e' }]), 'ID\tc061a0839e\n');
  });

  it('leaves the header row out with noHeading', () => {
    assert.equal(renderReport('table {{.ID}}', rows, { headers, noHeading: true }), 'c061a0839e\nf10fc2e11057\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\n');
  });

  it('prints the header alone for no rows, and nothing without a table', () => {
    assert.equal(renderReport('table {{.ID}}\t{{.Value}}', [], { headers }), 'IDENTITY    VALUE\n');
    assert.equal(renderReport('{{.ID}}', [], { headers }), '');
  });

  it('derives headers podman-style for fields without one', () => {
    assert.equal(renderReport('table {{.CreatedAt}}\t{{.RepoTags}}', [{ CreatedAt: 'now', RepoTags: ['a'] }]), 'CREATED AT  REPO TAGS\nnow         [a]\n');
  });

  it('renders the header row through conditionals and functions', () => {
    const row = { Repository: '', Labels: { a: 'b' }, Names: ['n1', 'n2'] };
    const out = renderReport(
      'table {{if .Repository}}{{.Repository}}{{else}}<none>{{end}} {{.Labels.a}} {{index .Labels "a"}} {{json .Names}} {{join .Names ","}} {{.Names | len}} {{range .Names}}{{.}}{{end}}',
      [row],
    );
    const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('');
    const widths = [12, 12, 12, 13, 12, 12];
    const head = line(['REPOSITORY', 'LABELS', 'LABELS', 'NAMES', 'NAMES', '5', 'NAMES'], widths);
    const body = line(['<none>', 'b', 'b', '["n1","n2"]', 'n1,n2', '2', 'n1n2'], widths);
    assert.equal(out, `${head}\n${body}\n`);
  });

  it('turns spaces in a table format into column breaks', () => {
    assert.equal(renderReport('table {{.ID}} {{.Value}}', rows.slice(0, 1), { headers }), 'IDENTITY    VALUE\nc061a0839e  one\n');
  });
});
