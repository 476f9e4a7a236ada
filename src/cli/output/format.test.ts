import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { formatOutput } from './format.js';
import { goHumanSize, humanSize } from './units.js';

const images = [
  {
    Repository: 'quay.io/podman/hello',
    Tag: 'latest',
    ID: 'e2b3db5d4fdf',
    CreatedSince: '2 weeks ago',
    Size: humanSize(1_456_000),
    Labels: { b: '2', a: '1' },
    Names: ['quay.io/podman/hello:latest'],
  },
  { Repository: 'docker.io/library/alpine', Tag: '3.19', ID: '05455a08881e', CreatedSince: '3 months ago', Size: humanSize(7_667_000), Labels: {}, Names: [] },
];
const imagesOpts = {
  defaultTable: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', Repository: 'REPOSITORY', Tag: 'TAG', Size: 'SIZE' },
};
const imagesTable = [
  'REPOSITORY                TAG         IMAGE ID      CREATED       SIZE',
  'quay.io/podman/hello      latest      e2b3db5d4fdf  2 weeks ago   1.46 MB',
  'docker.io/library/alpine  3.19        05455a08881e  3 months ago  7.67 MB',
  '',
].join('\n');

describe('formatOutput', () => {
  for (const format of [undefined, '', 'table']) {
    it(`${JSON.stringify(format)} prints the default table`, () => assert.equal(formatOutput(format, images, imagesOpts), imagesTable));
  }

  it('leaves out the header with noHeading', () => {
    assert.equal(formatOutput(undefined, images, { ...imagesOpts, noHeading: true }), imagesTable.split('\n').slice(1).join('\n'));
  });

  it('prints only the header for no rows', () => {
    assert.equal(formatOutput(undefined, [], imagesOpts), 'REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n');
  });

  it('prints nothing without a default table', () => assert.equal(formatOutput(undefined, images, { defaultTable: '', headers: {} }), ''));

  it('json prints the rows indented by 4 spaces, HTML-escaped, with a newline', () => {
    const rows = [{ Repository: '<none>', Tag: '<none>', Size: 5, Names: [], Labels: {} }];
    assert.equal(
      formatOutput('json', rows, imagesOpts),
      '[\n    {\n        "Repository": "\\u003cnone\\u003e",\n        "Tag": "\\u003cnone\\u003e",\n        "Size": 5,\n        "Names": [],\n        "Labels": {}\n    }\n]\n',
    );
  });

  it('json prints what opts.json returns', () => {
    assert.equal(
      formatOutput('json', images, { ...imagesOpts, json: () => [{ Id: 'x', Created: new Date(Date.UTC(2024, 0, 2)) }] }),
      '[\n    {\n        "Id": "x",\n        "Created": "2024-01-02T00:00:00Z"\n    }\n]\n',
    );
  });

  it('json of no rows is []', () => assert.equal(formatOutput('json', [], imagesOpts), '[]\n'));

  for (const format of ['json', ' json ', '{{json}}', '{{ json }}', '{{json.}}']) {
    it(`${JSON.stringify(format)} is JSON output`, () => assert.equal(formatOutput(format, [{ A: 1 }], imagesOpts), '[\n    {\n        "A": 1\n    }\n]\n'));
  }

  it('{{json .}} is a template: one compact line per row', () => {
    assert.equal(formatOutput('{{json .}}', [{ A: '<x>' }, { A: 2 }], imagesOpts), '{"A":"<x>"}\n{"A":2}\n');
  });

  it('table formats print headers from opts.headers and align', () => {
    assert.equal(
      formatOutput('table {{.ID}} {{.Repository}}', images, imagesOpts),
      'IMAGE ID      REPOSITORY\ne2b3db5d4fdf  quay.io/podman/hello\n05455a08881e  docker.io/library/alpine\n',
    );
  });

  it('table formats take \\t escapes', () => {
    assert.equal(formatOutput('table {{.Tag}}\\t{{.Size}}', images, imagesOpts), 'TAG         SIZE\nlatest      1.46 MB\n3.19        7.67 MB\n');
  });

  it('table formats derive headers for fields without one', () => {
    assert.equal(formatOutput('table {{.Names}}', images, imagesOpts), 'NAMES\n[quay.io/podman/hello:latest]\n[]\n');
  });

  it('noHeading applies to table formats too', () => {
    assert.equal(formatOutput('table {{.Tag}}', images, { ...imagesOpts, noHeading: true }), 'latest\n3.19\n');
  });

  it('other formats print one line per row, no header, no alignment', () => {
    assert.equal(formatOutput('{{.ID}} {{.Tag}}', images, imagesOpts), 'e2b3db5d4fdf latest\n05455a08881e 3.19\n');
    assert.equal(formatOutput('{{.ID}}\\t{{.Tag}}', images, imagesOpts), 'e2b3db5d4fdf\tlatest\n05455a08881e\t3.19\n');
    assert.equal(formatOutput('{{range .Labels}}{{.}}{{end}}', images, imagesOpts), '12\n\n');
  });

  it('a format with its own range runs once over all rows', () => {
    assert.equal(formatOutput('{{range .}}{{.Tag}},{{end}}', images, imagesOpts), 'latest,3.19,\n');
    assert.equal(formatOutput('{{len .}}', images, imagesOpts), '7\n7\n');
  });

  it('a {{printf "\\n"}} survives the escape handling', () => {
    assert.equal(formatOutput('{{range .}}{{printf "\\n"}}{{end -}}', images, imagesOpts), '\n\n');
  });

  it('no rows with a template prints nothing', () => assert.equal(formatOutput('{{.ID}}', [], imagesOpts), ''));

  it('inspect-style nested fields', () => {
    const found = [{ Id: 'sha256:abc', Config: { User: 'root', Env: ['A=1', 'B=2'], Labels: { vendor: 'x' } }, RepoTags: ['a:1'] }];
    const opts = { defaultTable: '', headers: {} };
    assert.equal(formatOutput('{{.Config.User}}', found, opts), 'root\n');
    assert.equal(formatOutput('{{join .Config.Env ","}}', found, opts), 'A=1,B=2\n');
    assert.equal(formatOutput('{{index .Config.Labels "vendor"}}|{{.Config.Labels.nope}}', found, opts), 'x|<no value>\n');
    assert.equal(formatOutput('{{range .RepoTags}}{{.}}{{end}}', found, opts), 'a:1\n');
    assert.equal(formatOutput('{{json .Config}}', found, opts), '{"User":"root","Env":["A=1","B=2"],"Labels":{"vendor":"x"}}\n');
    assert.throws(() => formatOutput('{{.Config.Usr}}', found, opts), { message: /can't evaluate field Usr/ });
  });

  it('version-style nested struct', () => {
    const info = { Version: '0.1.0', APIVersion: '5.0.0' };
    assert.equal(formatOutput('{{.Client.Version}} {{.Version}}', [{ Client: info, ...info }], { defaultTable: '', headers: {} }), '0.1.0 0.1.0\n');
  });

  it('system df with go-units sizes', () => {
    const rows = [
      { Type: 'Images', Total: 2, Active: 0, Size: goHumanSize(5_059_000), Reclaimable: `${goHumanSize(5_059_000)} (100%)` },
      { Type: 'Containers', Total: 0, Active: 0, Size: goHumanSize(0), Reclaimable: `${goHumanSize(0)} (0%)` },
      { Type: 'Local Volumes', Total: 0, Active: 0, Size: goHumanSize(0), Reclaimable: `${goHumanSize(0)} (0%)` },
    ];
    const out = formatOutput(undefined, rows, {
      defaultTable: 'table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
    });
    assert.equal(
      out,
      [
        'TYPE           TOTAL       ACTIVE      SIZE        RECLAIMABLE',
        'Images         2           0           5.059MB     5.059MB (100%)',
        'Containers     0           0           0B          0B (0%)',
        'Local Volumes  0           0           0B          0B (0%)',
        '',
      ].join('\n'),
    );
  });

  it('template errors are USAGE BerthErrors named after the command', () => {
    assert.throws(
      () => formatOutput('{{.Nope}}', images, { ...imagesOpts, name: 'images' }),
      (e: unknown) =>
        isBerthError(e, 'USAGE') && e.message === 'template: images:1:13: executing "images" at <.Nope>: can\'t evaluate field Nope in type struct',
    );
    assert.throws(
      () => formatOutput('table {{.Nope', images, imagesOpts),
      (e: unknown) => isBerthError(e, 'USAGE') && /unrecognized character in action: U\+007B '\{'/.test(e.message),
    );
    assert.throws(
      () => formatOutput('{{.ID', images, imagesOpts),
      (e: unknown) => isBerthError(e, 'USAGE') && /unclosed action|unrecognized character/.test(e.message),
    );
  });
});
