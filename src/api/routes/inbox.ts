import { z } from 'zod';
import { NotFoundError, type MessageRecord, type MessageStatus } from '../../core/index.js';
import type { WaymarkConfig } from '../../config/index.js';
import { recordFeedback } from '../../delivery/index.js';
import type { ApiContext } from '../context.js';
import { cursorSchema, identifierSchema, limitSchema } from '../input.js';
import { collectPages } from './paging.js';
import { inboxItemSchema, inboxPageSchema, inboxReadSchema, iso } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

/**
 * Priority levels of an in-app channel that configures none. The same three names the guide's
 * example uses, so a client can style the built-in inbox without reading the configuration.
 */
export const DEFAULT_PRIORITY_LEVELS: readonly string[] = ['urgent', 'normal', 'low'];

/** Name of the in-app channel journeys can send on without configuring it (see `Engine`). */
const BUILT_IN_IN_APP = 'in_app';

/**
 * The first page counts at most this many unread messages: enough for any badge, and bounded so
 * a customer with a flooded inbox cannot make every poll read their whole history.
 */
export const UNREAD_COUNT_CAP = 1000;

/**
 * Statuses of a message the customer can have seen in their inbox (what `listInbox` lists): a
 * queued, deferred or suppressed one never reached it, so it cannot be read either.
 */
const IN_INBOX: ReadonlySet<MessageStatus> = new Set(['sent', 'delivered']);

/**
 * The inbox channels of a configuration and their priority levels: every channel of type `in_app`,
 * plus the built-in `in_app` channel when no channel of that name is configured — the same rule the
 * engine uses to decide which channels it delivers into the store, so whatever it delivers there
 * is listed here.
 */
export function inboxChannels(config: WaymarkConfig): Map<string, readonly string[]> {
  const channels = new Map<string, readonly string[]>();
  for (const [name, channel] of Object.entries(config.channels)) {
    if (channel.type === 'in_app') {
      channels.set(name, channel.priority_levels ?? DEFAULT_PRIORITY_LEVELS);
    }
  }
  if (config.channels[BUILT_IN_IN_APP] === undefined) {
    channels.set(BUILT_IN_IN_APP, DEFAULT_PRIORITY_LEVELS);
  }
  return channels;
}

/**
 * The priority level an inbox shows a message at: the message's own `content.priority_level` when
 * the channel lists it (a template chose it), else its priority mapped onto the channel's levels —
 * critical and high to the first (most urgent), normal to `normal` when listed or else the middle
 * level, low to the last.
 */
export function priorityLevel(message: MessageRecord, levels: readonly string[]): string {
  const own = message.content['priority_level'];
  if (typeof own === 'string' && levels.includes(own)) return own;
  const first = levels[0] ?? 'normal';
  switch (message.priority) {
    case 'critical':
    case 'high':
      return first;
    case 'normal':
      return levels.includes('normal')
        ? 'normal'
        : (levels[Math.floor(levels.length / 2)] ?? first);
    case 'low':
      return levels[levels.length - 1] ?? first;
  }
}

/** Wire form of an inbox message. */
export function inboxItemJson(
  message: MessageRecord,
  levels: readonly string[],
): z.output<typeof inboxItemSchema> {
  const content = message.content;
  const text = (key: string): string | null => {
    const value = content[key];
    return typeof value === 'string' ? value : null;
  };
  const data = content['data'];
  return {
    id: message.id,
    channel: message.channel,
    journey_id: message.journeyId,
    priority: message.priority,
    priority_level: priorityLevel(message, levels),
    // E-mail-style templates reused in-app carry a subject instead of a title.
    title: text('title') ?? text('subject'),
    body: text('body'),
    url: text('url'),
    data: data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {},
    created_at: iso(message.createdAt),
    read_at: message.readAt == null ? null : iso(message.readAt),
    expires_at: message.expiresAt == null ? null : iso(message.expiresAt),
  };
}

const inboxParams = z.strictObject({ customer_id: identifierSchema });
const inboxMessageParams = z.strictObject({
  customer_id: identifierSchema,
  message_id: identifierSchema,
});

/** `?unread=true|false`; spelled out so `?unread=1` or `?unread=yes` are refused, not guessed at. */
const booleanQuery = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

/**
 * The in-app inbox of a customer: list it (newest first, without expired messages) and mark a
 * message read. Reads go through delivery feedback, so the engine stamps `read_at` and emits
 * `message.engaged` in the customer's own order.
 */
export function inboxRoutes(ctx: ApiContext): Route[] {
  const engine = ctx.engine;
  const store = engine.store;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/customers/:customer_id/inbox',
      operationId: 'listInbox',
      summary: "A customer's in-app inbox, newest first",
      description:
        "Messages of every in_app channel that reached the inbox and have not expired (the channel's persistence). unread=true lists only messages not read yet. Every customer has an inbox: an unknown one has an empty inbox, not a 404.",
      tag: 'inbox',
      params: inboxParams,
      query: z.strictObject({
        unread: booleanQuery,
        limit: limitSchema,
        cursor: cursorSchema,
      }),
      responses: { 200: { description: 'A page of the inbox.', schema: inboxPageSchema } },
      errors: { 400: 'INVALID_INPUT, INVALID_CURSOR' },
      async handle({ params, query }) {
        const channels = inboxChannels(engine.config);
        const names = [...channels.keys()];
        const now = engine.clock.now();
        const page = await store.listInbox({
          customerId: params.customer_id,
          channels: names,
          now,
          unreadOnly: query.unread,
          limit: query.limit,
          cursor: query.cursor,
        });
        let unreadCount: number | null = null;
        let capped = false;
        if (query.cursor === undefined) {
          // One more than the cap tells "exactly 1,000" from "more than 1,000".
          const unread = await collectPages(
            (cursor, limit) =>
              store.listInbox({
                customerId: params.customer_id,
                channels: names,
                now,
                unreadOnly: true,
                limit,
                cursor,
              }),
            UNREAD_COUNT_CAP + 1,
          );
          capped = unread.items.length > UNREAD_COUNT_CAP;
          unreadCount = Math.min(unread.items.length, UNREAD_COUNT_CAP);
        }
        return {
          status: 200,
          body: {
            items: page.items.map((m) =>
              inboxItemJson(m, channels.get(m.channel) ?? DEFAULT_PRIORITY_LEVELS),
            ),
            next_cursor: page.nextCursor,
            unread_count: unreadCount,
            unread_count_capped: capped,
          } satisfies z.output<typeof inboxPageSchema>,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/customers/:customer_id/inbox/:message_id/read',
      operationId: 'markInboxMessageRead',
      summary: 'Mark an inbox message read',
      description:
        "Recorded in the customer's log and applied in their order: read_at is stamped and message.engaged emitted shortly after the 202. Idempotent: marking a message read again answers duplicate and records nothing. A message that expired meanwhile can still be marked read (the customer saw it before it went).",
      tag: 'inbox',
      params: inboxMessageParams,
      responses: { 202: { description: 'Recorded.', schema: inboxReadSchema } },
      errors: {
        400: 'INVALID_INPUT',
        404: "NOT_FOUND: no such message in this customer's inbox (unknown, another customer's, not in-app, or never delivered)",
      },
      async handle({ params }) {
        const message = await store.getMessage(params.message_id);
        // Every reason it is not this customer's inbox message is the same 404: telling them
        // apart would let a caller probe other customers' message ids.
        if (
          message === null ||
          message.customerId !== params.customer_id ||
          !inboxChannels(engine.config).has(message.channel) ||
          !IN_INBOX.has(message.status)
        ) {
          throw new NotFoundError('inbox message', params.message_id);
        }
        const answer = (status: 'accepted' | 'duplicate') => ({
          status: 202,
          body: { message_id: message.id, status } satisfies z.output<typeof inboxReadSchema>,
        });
        // Already stamped (by this route or by other feedback): a second read changes nothing.
        if (message.readAt != null) return answer('duplicate');
        // A fixed feedback event id makes the command's idempotency key the same for every read
        // of this message through the inbox, so two reads racing before the engine stamps
        // `read_at` still record one command (one `message.engaged`).
        const now = engine.clock.now();
        const result = await recordFeedback(
          store,
          [{ messageId: message.id, kind: 'read', at: now, eventId: 'inbox' }],
          now,
        );
        if (result.accepted > 0) engine.worker.wake();
        return answer(result.accepted > 0 ? 'accepted' : 'duplicate');
      },
    }),
  ];
}
