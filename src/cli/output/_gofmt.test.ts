import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFloat, goQuote, goSprint, goSprintf, goSprintln, goString } from './_gofmt.js';

describe('formatFloat (strconv.FormatFloat)', () => {
  const cases: [number, 'e' | 'E' | 'f' | 'g' | 'G', number, string][] = [
    // %g with a precision: significant digits, no trailing zeros, exponent form at exp >= prec.
    [0, 'g', 3, '0'],
    [1, 'g', 3, '1'],
    [1.024, 'g', 3, '1.02'],
    [1.5, 'g', 3, '1.5'],
    [100, 'g', 3, '100'],
    [123.456, 'g', 3, '123'],
    [999.4, 'g', 3, '999'],
    [999.5, 'g', 3, '1e+03'], // exact tie rounds to even: 1000
    [999.6, 'g', 3, '1e+03'],
    [1000, 'g', 4, '1000'],
    [10000, 'g', 4, '1e+04'],
    [1.048576, 'g', 4, '1.049'],
    [2.125, 'g', 3, '2.12'], // exact tie, even digit stays
    [2.375, 'g', 3, '2.38'], // exact tie, odd digit rounds up
    [2.135, 'g', 3, '2.13'], // 2.13499999... in binary
    [0.0001234, 'g', 3, '0.000123'],
    [0.00001234, 'g', 3, '1.23e-05'],
    [1 / 3, 'g', 10, '0.3333333333'],
    [9.9996, 'g', 4, '10'],
    [120, 'g', 4, '120'],
    [5e-324, 'g', 3, '4.94e-324'],
    [1.7976931348623157e308, 'g', 4, '1.798e+308'],
    [-1.5, 'g', 3, '-1.5'],
    [2.5, 'g', 0, '2'], // precision 0 means 1
    // shortest (%v)
    [0.1, 'g', -1, '0.1'],
    [1.5, 'g', -1, '1.5'],
    [100000.5, 'g', -1, '100000.5'],
    [1234567.5, 'g', -1, '1.2345675e+06'],
    [1e-7, 'g', -1, '1e-07'],
    [0.0001, 'g', -1, '0.0001'],
    [1e21, 'g', -1, '1e+21'],
    [1e6, 'g', -1, '1e+06'],
    // %e and %f
    [1234.5678, 'e', 6, '1.234568e+03'],
    [0, 'e', 2, '0.00e+00'],
    [1e100, 'E', 1, '1.0E+100'],
    [2.675, 'f', 2, '2.67'],
    [0.5, 'f', 0, '0'],
    [1.5, 'f', 0, '2'],
    [2.5, 'f', 0, '2'],
    [0.25, 'f', 1, '0.2'],
    [0.35, 'f', 1, '0.3'],
    [1e-10, 'f', 3, '0.000'],
    [0.6, 'f', 0, '1'],
    [123.456, 'f', 6, '123.456000'],
    [1e20, 'f', 0, '100000000000000000000'],
    [NaN, 'g', 3, 'NaN'],
    [Infinity, 'f', 2, '+Inf'],
    [-Infinity, 'g', 3, '-Inf'],
  ];
  for (const [v, verb, prec, want] of cases) it(`%.${prec}${verb} of ${v} → ${want}`, () => assert.equal(formatFloat(v, verb, prec), want));
});

describe('goSprintf (fmt.Sprintf)', () => {
  const cases: [string, unknown[], string][] = [
    ['%s', ['x'], 'x'],
    ['%d', [42], '42'],
    ['%5d|%-5d|%05d', [42, 42, 42], '   42|42   |00042'],
    ['%+d % d', [5, 5], '+5  5'],
    ['%05d', [-42], '-0042'],
    ['%x %X %o %b', [255, 255, 8, 5], 'ff FF 10 101'],
    ['%#x %#o', [255, 8], '0xff 010'],
    ['%c%c', [72, 105], 'Hi'],
    ['%q', ['a"b\n'], '"a\\"b\\n"'],
    ['%t', [true], 'true'],
    ['%v', [[1, 2]], '[1 2]'],
    ['%d', [[1, 2]], '[1 2]'],
    ['%v', [{ b: 1, a: 'x' }], 'map[a:x b:1]'],
    ['%v', [null], '<nil>'],
    ['%.2f', [3.14159], '3.14'],
    ['%8.3f|', [3.14159], '   3.142|'],
    ['%6.2f%%', [12.345], ' 12.35%'], // 12.3450000000000006 in binary
    ['%e', [1234.5678], '1.234568e+03'],
    ['%g', [0.00001234], '1.234e-05'],
    ['%v', [1.5], '1.5'],
    ['%f', [2], '2.000000'],
    ['%.3s', ['abcdef'], 'abc'],
    ['%5s|%-5s|', ['ab', 'ab'], '   ab|ab   |'],
    ['%x', ['hi'], '6869'],
    ['%T %T %T', ['x', 1, true], 'string int bool'],
    ['%*d', [4, 7], '   7'],
    ['%%', [], '%'],
    ['plain', [], 'plain'],
    // Go's error annotations
    ['%s', [5], '%!s(int=5)'],
    ['%d', ['x'], '%!d(string=x)'],
    ['%d', [], '%!d(MISSING)'],
    ['%d', [1, 2], '1%!(EXTRA int=2)'],
    ['%s', ['a', 'b', 3], 'a%!(EXTRA string=b, int=3)'],
    ['%', [], '%!(NOVERB)'],
    ['%t', ['x'], '%!t(string=x)'],
    ['%d', [null], '%!d(<nil>)'],
  ];
  for (const [f, args, want] of cases) it(`${JSON.stringify(f)} ${JSON.stringify(args)} → ${want}`, () => assert.equal(goSprintf(f, args), want));
});

describe('goString (%v of a value)', () => {
  const cases: [unknown, string][] = [
    ['text', 'text'],
    [42, '42'],
    [-0, '0'],
    [1.5, '1.5'],
    [2 ** 53, '9007199254740992'],
    [true, 'true'],
    [undefined, '<no value>'],
    [null, '<no value>'],
    [[], '[]'],
    [['a', 'b'], '[a b]'],
    [[[1, 2], [3]], '[[1 2] [3]]'],
    [[null, 'x'], '[<nil> x]'],
    [{}, 'map[]'],
    [{ z: 1, a: ['x'] }, 'map[a:[x] z:1]'],
    [
      new Map<string, number>([
        ['b', 2],
        ['a', 1],
      ]),
      'map[a:1 b:2]',
    ],
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 500)), '2024-01-02 03:04:05.5 +0000 UTC'],
  ];
  for (const [v, want] of cases) it(`${want}`, () => assert.equal(goString(v), want));
});

describe('goSprint, goSprintln, goQuote', () => {
  it('Sprint spaces operands when neither is a string', () => assert.equal(goSprint(['a', 1, 2, 'b', true, false]), 'a1 2btrue false'));
  it('Sprint of nothing is empty', () => assert.equal(goSprint([]), ''));
  it('Sprintln always spaces and ends the line', () => assert.equal(goSprintln(['a', 1, 'b']), 'a 1 b\n'));
  it('Quote escapes control characters', () => assert.equal(goQuote('a\tb\x01\\'), '"a\\tb\\x01\\\\"'));
  it('Quote keeps printable Unicode', () => assert.equal(goQuote('héllo ☃'), '"héllo ☃"'));
});
