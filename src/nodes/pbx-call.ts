import { registerActionNode } from './action-node';
import type { NodeAPI } from './red';

export default function register(RED: NodeAPI): void {
  registerActionNode(RED, 'pbx-call', 'call');
}
