'use strict';
// How pbx-missed tells that two numbers are one caller (src/core/phone-number.ts): the national
// and international forms of one number match, different numbers and short extensions never do,
// and texts that are no number (anonymous callers, prototype names) are not numbers at all.
const assert = require('node:assert/strict');
const { parsePhoneNumber, sameNumber, matchKey, matchDistance } = require('../../dist/core/phone-number');

/** One London number in every form a PBX or a user writes it. */
const LONDON = [
  '+44 20 7946 0018',
  '0044 20 7946 0018',
  '020 7946 0018',
  '(020) 7946-0018',
  '+44 (0)20 7946 0018',
  '442079460018',
  '02079460018',
  'tel:+44-20-7946-0018',
  'sip:02079460018@10.0.0.5',
  'SIP:+442079460018@pbx.example.com;user=phone',
  ' +44.20.7946.0018 ',
];

/** [a, b, match?, why] */
const PAIRS = [
  ['+1 212 555 0100', '212-555-0100', true, 'NANP: country code 1 in front of the national number'],
  ['+1 212 555 0100', '1 212 555 0100', true, 'NANP written with its national 1'],
  ['+39 06 1234 5678', '06 1234 5678', true, 'Italy keeps the 0 in international form'],
  ['+49 30 12345678', '030 12345678', true, 'Germany'],
  ['+86 138 0013 8000', '13800138000', true, 'China mobile, no trunk prefix'],
  ['0086 138 0013 8000', '+8613800138000', true, '00 and + are the same prefix'],
  ['+1 212 555 0100', '+1 312 555 0100', false, 'another area code'],
  ['+1 212 555 0100', '312 555 0100', false, 'another area code, national form'],
  ['+1 212 555 0100', '+41 212 555 0100', false, 'both international: the country code decides'],
  ['+44 20 7946 0018', '+44 20 7946 0019', false, 'last digit differs'],
  ['020 7946 0018', '020 7946 0081', false, 'digits swapped'],
  ['+44 20 7946 0118', '118', false, 'a 3-digit extension never matches the end of a long number'],
  ['+44 20 7946 0118', '0118', false, 'nor with a trunk 0'],
  ['+44 20 7946 0118', '60118', false, 'nor 5 digits'],
  ['+44 20 7946 0018', '9460018', false, 'nor 7 digits: too short to match by its end'],
  ['+44 20 7946 0018', '1234 2079460018', false, 'more than a country code in front'],
  ['117', '117', true, 'an extension matches itself'],
  ['117', '1117', false, 'short numbers match only exactly'],
  ['800', '0800', true, 'the trunk 0 is dropped'],
];

/** Texts that are no caller: not tracked. */
const NOT_NUMBERS = [
  '',
  '   ',
  'anonymous',
  'Anonymous',
  'unknown',
  'Restricted',
  'private',
  'sip:anonymous@anonymous.invalid',
  '0',
  '00',
  '12',
  '+1',
  '000000',
  '+000',
  '1'.repeat(19),
  `${'1'.repeat(10)}${' '.repeat(60)}`,
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  undefined,
  null,
  {},
  [],
  ['+442079460018'],
  { digits: '442079460018' },
  true,
  -5,
  1.5,
  NaN,
];

describe('phone numbers: which callers are one', () => {
  it('every form of one London number matches every other, with one key', () => {
    const parsed = LONDON.map((text) => [text, parsePhoneNumber(text)]);
    for (const [text, n] of parsed) assert.ok(n, `${text} is a number`);
    for (const [ta, a] of parsed) {
      for (const [tb, b] of parsed) assert.ok(sameNumber(a, b), `${ta} ~ ${tb}`);
    }
    assert.deepEqual([...new Set(parsed.map(([, n]) => matchKey(n)))], ['79460018']);
  });

  it('parses to significant digits, international when written with + or 00', () => {
    assert.deepEqual(parsePhoneNumber('+44 20 7946 0018'), { digits: '442079460018', international: true });
    assert.deepEqual(parsePhoneNumber('0044 20 7946 0018'), { digits: '442079460018', international: true });
    assert.deepEqual(parsePhoneNumber('(020) 7946-0018'), { digits: '2079460018', international: false });
    assert.deepEqual(parsePhoneNumber('442079460018'), { digits: '442079460018', international: false });
    assert.deepEqual(parsePhoneNumber('117'), { digits: '117', international: false });
    assert.deepEqual(parsePhoneNumber(2125550100), { digits: '2125550100', international: false });
  });

  for (const [a, b, match, why] of PAIRS) {
    it(`${a} ${match ? '~' : '≁'} ${b}: ${why}`, () => {
      const na = parsePhoneNumber(a);
      const nb = parsePhoneNumber(b);
      assert.ok(na && nb);
      assert.equal(sameNumber(na, nb), match);
      assert.equal(sameNumber(nb, na), match, 'symmetric');
      if (match) assert.equal(matchKey(na), matchKey(nb), 'matching numbers share their key');
    });
  }

  it('the distance of a match: 0 for the same digits, else the country-code digits in front', () => {
    const d = (a, b) => matchDistance(parsePhoneNumber(a), parsePhoneNumber(b));
    assert.equal(d('+44 20 7946 0018', '0044 20 7946 0018'), 0);
    assert.equal(d('+44 20 7946 0018', '020 7946 0018'), 2);
    assert.equal(d('+1 212 555 0100', '212 555 0100'), 1);
    assert.equal(d('+1 212 555 0100', '+1 312 555 0100'), undefined);
  });

  for (const text of NOT_NUMBERS) {
    it(`${JSON.stringify(text) ?? String(text)} is no number: not tracked`, () => {
      assert.equal(parsePhoneNumber(text), undefined);
    });
  }
});
