import { notTheApiError, PbxError } from '../../core/errors';
import { lookupTable } from '../../core/lookup';
import { joinPath, pathParam } from '../../core/http';
import type { ProviderContext } from '../../core/provider';
import type { ActionResult, OperationName } from '../../core/types';

export type Json = Record<string, unknown>;
type Query = Record<string, string | undefined>;

export const API_NAME = '3CX WebAPI';

/**
 * Method → the fields of which every answer of it has at least one (the vendor's examples and
 * the simulator): an answer with none of them is not the WebAPI's, whatever its status.
 */
const ANSWER_FIELDS = lookupTable<readonly string[]>({
  // K2M answers with the numbers, Creomate with the call chain id.
  makecall: ['firstNum', 'secondNum', 'result', 'chid'],
  answer: ['result'],
  drop: ['result'],
  transfer: ['result'],
  join: ['result'],
  'ext.state': ['num', 'registered'],
  'ext.info': ['num'],
  'ext.devices': ['devices', 'count'],
  'pbx.callsinfo': ['callsInfo', 'count'],
  'pbx.calls': ['result'],
  'pbx.activesbycallid': ['AConnByCallID', 'count'],
  'all.ext': ['nums'],
  'all.registered': ['nums'],
  'all.group': ['nums'],
  'all.queue': ['nums'],
  'all.ivr': ['nums'],
  'all.line': ['nums'],
  'all.extgroup': ['extGroups'],
  'queue.members': ['members', 'count'],
  'queue.free': ['members', 'count'],
  'queue.talk': ['members', 'count'],
  'queue.isfree': ['result'],
  'group.members': ['members', 'count'],
  'group.free': ['members', 'count'],
  'extgroup.members': ['members', 'count'],
  'ext.fwd.set': ['result'],
  'ext.queueglobal.set': ['result'],
  'ext.queue.set': ['result'],
  'ext.options.set': ['result'],
});

/** One 3CX WebAPI account: `GET {baseUrl}/{accessKey}/{method}?{params}`, answered with JSON. */
export class WebApi {
  constructor(private readonly ctx: ProviderContext) {}

  /** A status read: transient failures are retried. */
  read(operation: string, method: string, query: Query = {}): Promise<Json> {
    return this.send(operation, method, query, false);
  }

  /**
   * A state-changing call: sent once. Its payload is `{ ok: true, operation }` and the parameters
   * in `used` that are set.
   */
  async change(operation: OperationName, method: string, query: Query, used: Json): Promise<ActionResult> {
    const raw = await this.send(operation, method, query, true);
    const payload: Json = { ok: true, operation };
    for (const [k, v] of Object.entries(used)) if (v !== undefined) payload[k] = v;
    return { payload, raw };
  }

  /** Anything but a JSON answer, and `{"result": false}`, is a failure. */
  private async send(operation: string, method: string, query: Query, stateChanging: boolean): Promise<Json> {
    const accessKey = this.ctx.settings.credentials.accessKey;
    if (!accessKey) throw new PbxError('auth_failed', 'no access key set in the pbx-config node');
    const res = await this.ctx.http.send({
      method: 'GET',
      path: joinPath(pathParam('accessKey', accessKey), method),
      query,
      operation,
      stateChanging,
    });
    const data = res.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw notTheApiError(operation, API_NAME, `${method} answered with a body that is not a JSON object`, res.status);
    }
    if ((data as Json).result === false) {
      throw new PbxError('provider_error', `${operation}: 3CX WebAPI ${method} answered result false`, { status: res.status });
    }
    const fields = ANSWER_FIELDS.get(method) ?? [];
    if (fields.length && !fields.some((f) => Object.prototype.hasOwnProperty.call(data, f))) {
      throw notTheApiError(operation, API_NAME, `${method} answered without ${fields.join(' or ')}`, res.status);
    }
    return data as Json;
  }
}
