import type { AllMiddlewareArgs, BlockAction, BlockElementAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { type ListenerDeps, clickedIn, clickerOf } from '../listener-deps.js';
import { type Reply, afterAck, replyTo } from '../reply.js';

export type ClickArgs<A extends BlockElementAction> = SlackActionMiddlewareArgs<BlockAction<A>> & AllMiddlewareArgs;
export type Clicker = ReturnType<typeof clickerOf>;

/**
 * A button or select listener: acks at once, then runs `handle` with the clicker and a reply to them alone.
 * An error is answered with `notDone` and a reference that is in the log (`failure` adds ids to that line);
 * nothing is thrown out of the listener.
 */
export function onClick<A extends BlockElementAction>(
  deps: ListenerDeps,
  notDone: string,
  handle: (args: ClickArgs<A>, clicker: Clicker, reply: Reply) => Promise<void>,
  failure: (args: ClickArgs<A>) => Record<string, unknown> = () => ({}),
) {
  return async (args: ClickArgs<A>) => {
    await args.ack();
    const clicker = clickerOf(args.body);
    const reply = replyTo({ kind: 'ephemeral', userId: clicker.userId, channel: clickedIn(args.body) }, { client: args.client, dms: deps.dms, logger: deps.logger });
    await afterAck(reply, notDone, { logger: deps.logger, ...failure(args), user: clicker.userId }, () => handle(args, clicker, reply));
  };
}
