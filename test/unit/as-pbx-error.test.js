'use strict';
// One rule for errors that are not PbxErrors, shared by the action nodes and the editor endpoints.
const assert = require('node:assert/strict');
const { PbxError } = require('../../dist/core/errors');
const { asPbxError, messageOf } = require('../../dist/nodes/as-pbx-error');

describe('asPbxError', () => {
  it('passes a PbxError through as it is', () => {
    const err = new PbxError('timeout', 'makecall: timed out after 2000 ms', { operation: 'makecall' });
    assert.equal(asPbxError(err), err);
  });

  it('makes anything else invalid_input with its message', () => {
    const cases = [
      [new TypeError('base URL "ftp://x" is not an http(s) URL'), 'base URL "ftp://x" is not an http(s) URL'],
      [
        { code: 'S0203', position: 5, token: '(', message: 'Expected ")" before end of expression' },
        'Expected ")" before end of expression',
      ],
      ['a thrown string', 'a thrown string'],
      [undefined, 'undefined'],
      [{ message: 42 }, '[object Object]'],
    ];
    for (const [thrown, message] of cases) {
      const e = asPbxError(thrown);
      assert.ok(e instanceof PbxError);
      assert.deepEqual(e.toJSON(), { code: 'invalid_input', message }, JSON.stringify(thrown));
      assert.equal(messageOf(thrown), message);
    }
  });
});
