/**
 * Scenarios every provider's simulator plays for call outcomes (SPEC section 9), under the same
 * names everywhere:
 * - `missed-callback-answered`: an inbound call nobody answers, then an extension calls the caller
 *   back and the caller answers;
 * - `missed-callback-unanswered`: the same, but nobody answers the callback;
 * - `missed-callback-busy`: the same, but the caller's line is busy (a busy signal where the
 *   provider's webhooks have one, VoipNow's BUSY; an unanswered callback elsewhere);
 * - `lost-hangup`: an inbound call is answered and ends in the simulator's state (active calls no
 *   longer list it), but its hangup webhook is never sent, as when a delivery is lost: for
 *   stale-call closing and reconciliation.
 * The missed-callback scenarios are existing scenarios played one after the other with the same
 * options, the caller's number as the callback's destination.
 */
export const LOST_HANGUP = 'lost-hangup';

export interface CompositeScenario {
  title: string;
  /** Scenario names of the provider, played in this order with the same options. */
  parts: string[];
}

/** The missed-callback scenarios from a provider's own scenario names. */
export function missedCallbackScenarios(parts: {
  missed: string;
  answered: string;
  unanswered: string;
  busy: string;
}): Record<string, CompositeScenario> {
  return {
    'missed-callback-answered': {
      title: 'A missed inbound call, then an extension calls the caller back and the caller answers',
      parts: [parts.missed, parts.answered],
    },
    'missed-callback-unanswered': {
      title: 'A missed inbound call, then a callback to the caller that nobody answers',
      parts: [parts.missed, parts.unanswered],
    },
    'missed-callback-busy': {
      title: 'A missed inbound call, then a callback to the caller, whose line is busy',
      parts: [parts.missed, parts.busy],
    },
  };
}

/** Names of the outcome scenarios, in the order `scenarios()` lists them after a provider's own. */
export const OUTCOME_SCENARIO_NAMES = [
  ...Object.keys(missedCallbackScenarios({ missed: '', answered: '', unanswered: '', busy: '' })),
  LOST_HANGUP,
];
