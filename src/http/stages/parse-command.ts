/** Turns the parameters into the endpoint's command, and notes whose secret it is about. */
import type { Stage } from '../request-context.js';

export const parseCommand: Stage = (context) => {
  const { endpoint, principal, record } = context;
  const command = endpoint.parse(context.params);
  const target = endpoint.target(command);
  context.command = command;
  context.target = target;
  context.owner = {
    platform: principal.platform,
    account: record.account ?? principal.platform,
    livemode: principal.livemode,
    boundUser: principal.user,
  };
  record.target = {
    scopeType: target.scope.type,
    scopeUser: target.scope.type === 'user' ? target.scope.user : null,
    name: target.name,
  };
};
