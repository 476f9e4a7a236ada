import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isYes } from './confirm.js';

it('only y and yes (any case, spaces around) confirm; anything else, or no answer, is no', { timeout: 5_000 }, () => {
  for (const yes of ['y', 'Y', 'yes', 'YES', ' Yes ']) assert.equal(isYes(yes), true, yes);
  for (const no of ['', 'n', 'N', 'no', 'yess', 'sure', 'y y', undefined]) assert.equal(isYes(no), false, String(no));
});
