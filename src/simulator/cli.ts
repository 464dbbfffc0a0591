import { parseArgs } from 'node:util';
import { describeProviders, SIMULATED_PROVIDER_IDS, startSimulator, THREE_CX_EDITIONS, type ThreeCxEdition } from './index';
import { BUSY_SUFFIX, NO_ANSWER_SUFFIX } from './call-outcomes';
import type { CloudCallCenterModes } from './cloud-callcenter';
import { DEMO_QUEUE_LOAD, queueLoadDemoText } from './queue-load-demo';
import type { Simulator } from './server';
import { VOIPNOW_EVENT_SENDERS, VoipNowSimulator, type VoipNowEventSender } from './voipnow';
import { QUEUE_LOAD_OPTIONS } from './queue-load';
import { webhookTargetProblem } from './webhook-sender';

/** The port the example flows' pbx-config nodes point at. */
export const DEFAULT_PORT = 8089;
export const DEFAULT_HOST = '127.0.0.1';

export interface CliOptions {
  help: boolean;
  port: number;
  host: string;
  /** Ids of the providers to simulate. */
  providers: string[];
  /** Webhook target by provider id. */
  webhooks: Record<string, string>;
  /** Where VoipNow Call Events name their type; undefined = the simulator's default (`url`). */
  voipnowSender?: VoipNowEventSender;
  /** The cloud call center's API variant; empty: the newer one. */
  callCenterModes: Partial<CloudCallCenterModes>;
  /** Whose 3CX WebAPI add-on the 3cx-webapi simulator speaks. */
  edition: ThreeCxEdition;
  /** Providers that play the endless demo queue load (--queue-load). */
  queueLoad: string[];
}

/** A command line the simulator cannot run with: exit code 2 and the message. */
export class UsageError extends Error {}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  provider: { type: 'string' },
  webhook: { type: 'string', multiple: true },
  edition: { type: 'string' },
  'voipnow-sender': { type: 'string' },
  'callcenter-cdr': { type: 'string' },
  'callcenter-cdr-without-commas': { type: 'boolean' },
  'callcenter-makecall-without-uuid': { type: 'boolean' },
  'queue-load': { type: 'string' },
} as const;

export function parseCliArgs(argv: string[]): CliOptions {
  let values: {
    help?: boolean;
    port?: string;
    host?: string;
    provider?: string;
    webhook?: string[];
    edition?: string;
    'voipnow-sender'?: string;
    'callcenter-cdr'?: string;
    'callcenter-cdr-without-commas'?: boolean;
    'callcenter-makecall-without-uuid'?: boolean;
    'queue-load'?: string;
  };
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (values.port !== undefined && (!/^\d{1,5}$/.test(values.port) || port > 65535)) {
    throw new UsageError(`--port: "${values.port}" is not a port number (0-65535; 0 picks a free one)`);
  }
  const host = values.host ?? DEFAULT_HOST;
  if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/.test(host)) {
    throw new UsageError(`--host: the simulator listens on loopback only (127.x.x.x, ::1 or localhost), not ${host}`);
  }
  const providers = values.provider === undefined || values.provider === 'all' ? SIMULATED_PROVIDER_IDS : [values.provider];
  if (!SIMULATED_PROVIDER_IDS.includes(providers[0])) throw new UsageError(`--provider: ${noSuchProvider(values.provider)}`);
  const edition = THREE_CX_EDITIONS.find((e) => e === (values.edition ?? 'k2m'));
  if (!edition) throw new UsageError(`--edition: "${values.edition}" is not one of ${THREE_CX_EDITIONS.join(', ')}`);
  const callCenterModes: Partial<CloudCallCenterModes> = {};
  const cdr = values['callcenter-cdr'];
  if (cdr !== undefined) {
    if (cdr !== 'recordurl' && cdr !== 'downloadip') throw new UsageError(`--callcenter-cdr: "${cdr}" is not recordurl or downloadip`);
    callCenterModes.cdr = cdr;
  }
  if (values['callcenter-cdr-without-commas']) callCenterModes.cdrWithoutCommas = true;
  if (values['callcenter-makecall-without-uuid']) callCenterModes.makeCallUuid = false;
  const options: CliOptions = {
    help: values.help ?? false,
    port,
    host,
    providers,
    webhooks: webhookTargets(values.webhook ?? [], providers),
    callCenterModes,
    edition,
    queueLoad: [],
  };
  if (values['queue-load'] !== undefined) options.queueLoad = queueLoadProviders(values['queue-load'], providers, options.webhooks);
  const sender = values['voipnow-sender'];
  if (sender !== undefined) {
    options.voipnowSender = VOIPNOW_EVENT_SENDERS.find((s) => s === sender);
    if (!options.voipnowSender) throw new UsageError(`--voipnow-sender: "${sender}" is not ${VOIPNOW_EVENT_SENDERS.join(' or ')}`);
    if (!providers.includes('voipnow'))
      throw new UsageError(`--voipnow-sender: voipnow is not simulated (--provider ${providers.join(',')})`);
  }
  return options;
}

/** `--webhook <url>` (every provider) first, then `--webhook <provider>=<url>`, whatever their order. */
function webhookTargets(values: string[], providers: string[]): Record<string, string> {
  const targets: Record<string, string> = {};
  const forOne: Array<[string, string]> = [];
  for (const value of values) {
    const forAll = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
    const split = value.indexOf('=');
    const [id, url] = forAll || split < 0 ? ['', value] : [value.slice(0, split), value.slice(split + 1)];
    const problem = webhookTargetProblem(url);
    if (problem) throw new UsageError(`--webhook: ${problem}`);
    if (!id) for (const p of providers) targets[p] = url;
    else if (!SIMULATED_PROVIDER_IDS.includes(id)) throw new UsageError(`--webhook: ${noSuchProvider(id)}`);
    else if (!providers.includes(id)) throw new UsageError(`--webhook: ${id} is not simulated (--provider ${providers.join(',')})`);
    else forOne.push([id, url]);
  }
  for (const [id, url] of forOne) targets[id] = url;
  return targets;
}

/** `--queue-load <provider>[,<provider>]` or `all`: each simulated, each with a webhook target. */
function queueLoadProviders(value: string, providers: string[], webhooks: Record<string, string>): string[] {
  const ids = value === 'all' ? providers : [...new Set(value.split(',').map((id) => id.trim()))];
  for (const id of ids) {
    if (!SIMULATED_PROVIDER_IDS.includes(id)) throw new UsageError(`--queue-load: ${noSuchProvider(id)}`);
    if (!providers.includes(id)) throw new UsageError(`--queue-load: ${id} is not simulated (--provider ${providers.join(',')})`);
    if (!Object.prototype.hasOwnProperty.call(webhooks, id))
      throw new UsageError(`--queue-load: ${id} has no webhook target for its calls (--webhook ${id}=<url>)`);
  }
  return ids;
}

function noSuchProvider(id: string | undefined): string {
  return `no provider "${id}" (${SIMULATED_PROVIDER_IDS.join(', ')})`;
}

export function helpText(options: Pick<CliOptions, 'port' | 'host'> = { port: DEFAULT_PORT, host: DEFAULT_HOST }): string {
  const origin = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const column = ' '.repeat(22);
  const providers = describeProviders().flatMap((p) => [
    `  ${p.id.padEnd(18)}${origin}${p.prefix}`,
    `    credentials       ${Object.entries(p.credentials)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...wrap(p.scenarios.join(', '), 78).map((line, i) => `${i ? column : '    scenarios         '}${line}`),
    ...Object.entries(p.scenarioOptions).map(([k, v], i) => `${i ? column : '    scenario options  '}${k}: ${v}`),
    `    queue load queues ${p.loadQueues.join(', ')}`,
  ]);
  return [
    'Usage: pbx-simulator [--port <n>] [--host <address>] [--provider <id>|all] [--webhook [<provider>=]<url>]... [--edition k2m|creomate]',
    '',
    'A PBX simulator on loopback for @callflow/node-red-pbx: it answers the APIs of the providers',
    'below with in-memory extensions, queues and calls, and sends their call events as webhooks',
    "to a URL of yours, e.g. the webhook URL a pbx-config node shows in Node-RED's editor.",
    '',
    'Options:',
    `  --port <n>                  port to listen on (default ${DEFAULT_PORT}, the examples' port; 0 picks a free one)`,
    `  --host <address>            loopback address to listen on (default ${DEFAULT_HOST})`,
    '  --provider <id>|all         simulate one provider only (default all)',
    "  --webhook <provider>=<url>  where that provider's webhooks go (repeatable)",
    "  --webhook <url>             where every provider's webhooks go",
    '                              A target is an http:// URL on loopback. Without one, playing a',
    '                              scenario or placing a call through the API is refused (HTTP 409).',
    '  --edition k2m|creomate      whose 3CX WebAPI add-on the 3cx-webapi simulator speaks (default k2m):',
    '                              its webhooks and its makecall (creomate: first/second, answers {chid})',
    '  --voipnow-sender <mode>     where VoipNow Call Events name their type: url (?event=<type>,',
    '                              default) or payload (EventType, as one URL for every type gets it)',
    '  --callcenter-cdr <format>   cloud-callcenter CDR callbacks: recordurl (default, newer accounts) or',
    '                              downloadip (older accounts: downloadip + recordfilename, no recordurl)',
    '  --callcenter-cdr-without-commas',
    "                              cloud-callcenter CDR JSON without commas between its lines, as the vendor's",
    '                              published examples show it',
    '  --callcenter-makecall-without-uuid',
    '                              cloud-callcenter MakeCall / DoubleCall answer without the call uuid, as',
    '                              documented (calls are then matched by their customuuid / reference)',
    '  --queue-load <provider>[,<provider>]|all',
    '                              keep playing a gentle queue load to those providers until stopped:',
    ...queueLoadDemoText().map((line) => `                              ${line}`),
    '  -h, --help                  this text',
    '',
    'Calls placed through the API (makecall, doublecall) end as the destination number chooses:',
    `  ending in ${NO_ANSWER_SUFFIX}: nobody answers; ending in ${BUSY_SUFFIX}: busy (VoipNow hangs up BUSY, the`,
    '  others, whose webhooks have no busy signal, as unanswered); any other number answers.',
    'Every provider plays the same outcome scenarios: missed-callback-answered, missed-callback-unanswered',
    "  and missed-callback-busy (a missed inbound call, then a callback to the caller's number that is",
    '  answered / not answered / busy), and lost-hangup (an inbound call is answered and ends, so active',
    '  calls no longer list it, but its hangup webhook is never sent: for stale-call closing and reconcile).',
    '3cx-webapi queue-waiting: a live inbound call waits in queue 820 (transfer?num=820&dest=<ext> routes it',
    '  there) until agent 202 answers it.',
    '',
    'Providers: the base URL for the pbx-config node and the credentials the simulator accepts',
    ...providers,
    '',
    `Control API (JSON bodies) under ${origin}:`,
    '  GET  /_sim/scenarios            scenario names by provider',
    '  POST /_sim/scenario             {"provider":"<id>","name":"<scenario>", ...scenario options}: plays it',
    '                                  to the webhook target; answers {"callId"} once the last webhook was sent',
    '  POST /_sim/webhook              {"provider":"<id>","url":"<url>"}: sets the webhook target (no url: clears it);',
    '                                  optional "scheme": post, get or form',
    '  GET  /_sim/state                extensions, calls and queues by provider',
    '  GET  /_sim/requests             the API requests received (?provider=<id>; DELETE clears them)',
    '  POST /_sim/faults               {"pathPrefix","status"|"delayMs"|"reset"|"rawBody","times"}: answer',
    '                                  matching API requests badly (DELETE clears all)',
    '  POST /_sim/queue-load           {"provider":"<id>", ...queue load options}: plays a queue load and answers',
    '                                  its ground-truth log once every call has ended (400 on bad options):',
    ...Object.entries(QUEUE_LOAD_OPTIONS).flatMap(([k, v]) =>
      wrap(`${k}: ${v}`, 66)
        .map((l, i) => `${i ? '      ' : '    '}${l}`)
        .map((l) => `                              ${l}`),
    ),
    '  POST /_sim/reset                back to the initial extensions, no calls, no faults, no queue load',
    '',
    'Example: Node-RED on 127.0.0.1:1880 with the 3CX examples imported; the pbx-config node shows its',
    'webhook URL (it ends in the webhook secret):',
    `  npx pbx-simulator --webhook 3cx-webapi=http://127.0.0.1:1880/pbx/demo-3cx/<secret>`,
    `  curl -X POST ${origin}/_sim/scenario -H 'Content-Type: application/json' \\`,
    `       -d '{"provider":"3cx-webapi","name":"incoming-missed"}'`,
    '',
  ].join('\n');
}

/** `text` in lines of at most `width` characters, broken after ", ". */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    if (lines.length && lines[lines.length - 1].length + 1 + word.length <= width) lines[lines.length - 1] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** A webhook target as the command prints it: no query, no user info, last path segment hidden (it may be a secret). */
export function shownTarget(url: string): string {
  const u = new URL(url);
  const segments = u.pathname.split('/');
  if (segments.filter(Boolean).length >= 2) segments[segments.length - (segments.at(-1) === '' ? 2 : 1)] = '***';
  return `${u.protocol}//${u.host}${segments.join('/')}`;
}

function startedText(sim: Simulator, queueLoads: string[] = []): string {
  const example = sim.providers.find((p) => p.sender.url) ?? sim.providers[0];
  return [
    `pbx-simulator listening on ${sim.url}`,
    ...sim.providers.map((p) => {
      const target = p.sender.url
        ? `webhooks to ${shownTarget(p.sender.url)}`
        : `no webhook target: set one with --webhook ${p.id}=<url> or POST /_sim/webhook`;
      return `  ${p.id.padEnd(18)}${`${sim.url}${p.prefix}`.padEnd(36)} ${target}`;
    }),
    ...(sim.providers.some((p) => p.sender.url)
      ? ['(the last path segment of a webhook target is not shown: in a pbx-config URL it is the secret)']
      : []),
    `Play a scenario: curl -X POST ${sim.url}/_sim/scenario -H 'Content-Type: application/json' ` +
      `-d '{"provider":"${example.id}","name":"${example.scenarios().find((n) => n.includes('missed')) ?? example.scenarios()[0]}"}'`,
    ...queueLoads.map((l) => `Queue load ${l}`),
    'Scenarios, options and the control API: pbx-simulator --help',
    'Ctrl-C stops it.',
    '',
  ].join('\n');
}

/** Runs the command: help, or the simulator until SIGINT/SIGTERM. Sets `process.exitCode`; 2 for a bad command line. */
export async function main(argv: string[]): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pbx-simulator: ${err.message}\nRun pbx-simulator --help for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(helpText(options));
    return;
  }
  let sim: Simulator;
  try {
    sim = await startSimulator({
      port: options.port,
      host: options.host,
      providers: options.providers,
      requireWebhook: true,
      threeCxEdition: options.edition,
      webhooks: Object.fromEntries(Object.entries(options.webhooks).map(([id, url]) => [id, { url }])),
      callCenterModes: options.callCenterModes,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'EADDRINUSE' ? 'is in use: choose another with --port' : `cannot be used (${code ?? String(err)})`;
    process.stderr.write(`pbx-simulator: port ${options.port} on ${options.host} ${why}\n`);
    process.exitCode = 1;
    return;
  }
  if (options.voipnowSender) {
    const voipnow = sim.provider('voipnow');
    if (voipnow instanceof VoipNowSimulator) voipnow.useEventSender(options.voipnowSender);
  }
  const queueLoads = options.queueLoad.map((id) => {
    const provider = sim.provider(id);
    provider
      .playQueueLoad?.(DEMO_QUEUE_LOAD, { endless: true })
      .catch((err: unknown) => process.stderr.write(`pbx-simulator: the queue load of ${id} stopped: ${String(err)}\n`));
    const queues = provider.loadQueues?.slice(0, 2).join(', ');
    return `${id}: queues ${queues}, ${DEMO_QUEUE_LOAD.ratePerMinute} calls a minute, until stopped`;
  });
  process.stdout.write(startedText(sim, queueLoads));
  let stopping = false;
  const stop = () => {
    // A second signal does not wait for webhooks still on their way.
    if (stopping) process.exit(1);
    stopping = true;
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
