import { z } from 'zod';
import {
  InvalidInputError,
  NotFoundError,
  WaymarkError,
  type FeedbackKind,
} from '../../core/index.js';
import {
  FEEDBACK_KINDS,
  recordFeedback,
  verifySendgridSignature,
  verifyTwilioSignature,
  type DeliveryFeedback,
  type TrackingPurpose,
} from '../../delivery/index.js';
import type { ApiContext } from '../context.js';
import { identifierSchema } from '../input.js';
import { rawBodyOf } from '../raw-body.js';
import { namedResponseSchemas, responseSchemas } from '../representations.js';
import { defineRoute, type Route } from '../route.js';

/** A transparent 1×1 GIF: the open pixel's answer. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const feedbackResultSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  ignored: z.number().int(),
  unknown: z.array(z.string()),
});
{
  const name = {
    id: 'FeedbackResult',
    description:
      'What recording feedback did: accepted, duplicates (already recorded), ignored (kinds that mean nothing here), unknown message ids.',
  };
  responseSchemas.add(feedbackResultSchema, name);
  namedResponseSchemas.push({ schema: feedbackResultSchema, name });
}

/** SendGrid Event Webhook event types and what they mean here; others are ignored. */
const SENDGRID_KINDS: Readonly<Record<string, FeedbackKind>> = {
  delivered: 'delivered',
  bounce: 'bounced',
  dropped: 'failed',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
  open: 'opened',
  click: 'clicked',
};

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function rejected(provider: string): WaymarkError {
  return new WaymarkError(
    'SIGNATURE_REJECTED',
    `the request is not signed by ${provider} (the signature does not verify)`,
  );
}

/** Twilio error codes of an undelivered SMS that say the number cannot receive messages. */
const TWILIO_UNREACHABLE = new Set(['30003', '30005', '30006']);

const sendgridEventSchema = z.looseObject({
  event: z.string(),
  timestamp: z.number().optional(),
  sg_event_id: z.string().optional(),
  sg_message_id: z.string().optional(),
  waymark_message_id: z.string().optional(),
  reason: z.string().optional(),
  url: z.string().optional(),
});

/**
 * Delivery feedback: provider callbacks (SendGrid's Event Webhook, Twilio's status callback), a
 * generic JSON form for any other provider, and the tracking links of e-mail (open pixel, click
 * redirect, one-click unsubscribe). Each becomes a command in the customer's log (`recordFeedback`).
 */
export function feedbackRoutes(ctx: ApiContext): Route[] {
  const engine = ctx.engine;
  const store = engine.store;
  const record = async (items: DeliveryFeedback[], ignored: number) => {
    const result = await recordFeedback(store, items, engine.clock.now());
    if (result.accepted > 0) engine.worker.wake();
    return { ...result, ignored };
  };
  const tracked = (purpose: TrackingPurpose, token: string, url?: string): string => {
    const messageId = engine.tracking?.verify(purpose, token, url) ?? null;
    if (messageId === null) throw new NotFoundError('tracking link', token.slice(0, 64));
    return messageId;
  };
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/feedback',
      operationId: 'recordFeedback',
      summary: 'Record delivery feedback for messages',
      description:
        "For providers without a built-in callback: delivered, failed, bounced, complained, unsubscribed, opened, clicked or read, per message id. Applied in each customer's order; opens, clicks and reads emit message.engaged.",
      tag: 'delivery',
      body: z.strictObject({
        events: z
          .array(
            z.strictObject({
              message_id: identifierSchema,
              type: z.enum(FEEDBACK_KINDS as [FeedbackKind, ...FeedbackKind[]]),
              timestamp: z.iso.datetime({ offset: true }).optional(),
              reason: z.string().max(1000).optional(),
              url: z.string().max(4096).optional(),
              event_id: z.string().max(256).optional(),
            }),
          )
          .min(1)
          .max(1000),
      }),
      responses: { 202: { description: 'Recorded.', schema: feedbackResultSchema } },
      errors: { 400: 'INVALID_INPUT' },
      async handle({ body }) {
        const now = engine.clock.now();
        const items = body.events.map((e) => ({
          messageId: e.message_id,
          kind: e.type,
          at: e.timestamp === undefined ? now : Date.parse(e.timestamp),
          reason: e.reason,
          url: e.url,
          eventId: e.event_id,
        }));
        return { status: 202, body: await record(items, 0) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/feedback/sendgrid',
      operationId: 'sendgridEvents',
      summary: "SendGrid's Event Webhook",
      description:
        'Point the Event Webhook here. Events name the message by the custom argument waymark_message_id (Waymark sets it), else by sg_message_id. delivered, bounce, dropped, spamreport, unsubscribe, group_unsubscribe, open and click are recorded; processed and deferred are ignored.',
      tag: 'delivery',
      body: z.array(sendgridEventSchema).max(10_000),
      headers: [
        {
          name: 'X-Twilio-Email-Event-Webhook-Signature',
          description: 'Checked when SENDGRID_WEBHOOK_PUBLIC_KEY is set (signed Event Webhook).',
        },
        {
          name: 'X-Twilio-Email-Event-Webhook-Timestamp',
          description: 'Part of the signed payload.',
        },
      ],
      responses: { 200: { description: 'Recorded.', schema: feedbackResultSchema } },
      errors: { 400: 'INVALID_INPUT', 403: 'SIGNATURE_REJECTED: the signature does not verify' },
      async handle({ body, request }) {
        const key = engine.feedbackVerification.sendgridPublicKey;
        if (
          key !== null &&
          !verifySendgridSignature(
            key,
            header(request.headers['x-twilio-email-event-webhook-timestamp']),
            rawBodyOf(request),
            header(request.headers['x-twilio-email-event-webhook-signature']),
          )
        ) {
          throw rejected('SendGrid');
        }
        const items: DeliveryFeedback[] = [];
        let ignored = 0;
        for (const event of body) {
          const kind = SENDGRID_KINDS[event.event];
          const messageId =
            event.waymark_message_id ??
            (event.sg_message_id === undefined
              ? undefined
              : (await store.findMessageByProviderId(event.sg_message_id.split('.')[0] ?? ''))?.id);
          if (kind === undefined || messageId === undefined) {
            ignored++;
            continue;
          }
          items.push({
            messageId,
            kind,
            at: event.timestamp === undefined ? engine.clock.now() : event.timestamp * 1000,
            reason: event.reason,
            url: event.url,
            eventId: event.sg_event_id,
          });
        }
        return { status: 200, body: await record(items, ignored) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/feedback/twilio',
      operationId: 'twilioStatus',
      summary: "Twilio's message status callback",
      description:
        'Set as StatusCallback (the Twilio provider does this with status_callback_url; it adds waymark_message_id to the query). delivered is recorded; undelivered and failed become bounced (30003, 30005, 30006), unsubscribed (21610) or failed; other statuses are ignored. Form-encoded, as Twilio sends it.',
      tag: 'delivery',
      query: z.looseObject({ waymark_message_id: identifierSchema.optional() }),
      body: z.looseObject({
        MessageSid: z.string().optional(),
        MessageStatus: z.string(),
        ErrorCode: z.string().optional(),
      }),
      headers: [
        {
          name: 'X-Twilio-Signature',
          description: "Checked when the SMS channel's Twilio auth token is known.",
        },
      ],
      responses: { 200: { description: 'Recorded.', schema: feedbackResultSchema } },
      errors: { 400: 'INVALID_INPUT', 403: 'SIGNATURE_REJECTED: the signature does not verify' },
      async handle({ query, body, request }) {
        const { twilioAuthTokens, publicUrl } = engine.feedbackVerification;
        if (twilioAuthTokens.length > 0) {
          // Twilio signs the URL it called: behind a proxy that is the public address.
          const base = publicUrl ?? `${request.protocol}://${request.host}`;
          const url = `${base.replace(/\/+$/u, '')}${request.url}`;
          const params = Object.fromEntries(
            Object.entries(body).map(([name, value]) => [name, String(value)]),
          );
          if (
            !verifyTwilioSignature(
              twilioAuthTokens,
              url,
              params,
              header(request.headers['x-twilio-signature']),
            )
          ) {
            throw rejected('Twilio');
          }
        }
        const messageId =
          query.waymark_message_id ??
          (body.MessageSid === undefined
            ? undefined
            : (await store.findMessageByProviderId(body.MessageSid))?.id);
        const code = body.ErrorCode;
        const kind: FeedbackKind | undefined =
          body.MessageStatus === 'delivered'
            ? 'delivered'
            : body.MessageStatus === 'undelivered' || body.MessageStatus === 'failed'
              ? code === '21610'
                ? 'unsubscribed'
                : code !== undefined && TWILIO_UNREACHABLE.has(code)
                  ? 'bounced'
                  : 'failed'
              : undefined;
        if (messageId === undefined || kind === undefined) {
          return { status: 200, body: { accepted: 0, duplicates: 0, ignored: 1, unknown: [] } };
        }
        const item: DeliveryFeedback = {
          messageId,
          kind,
          at: engine.clock.now(),
          reason: code === undefined ? undefined : `Twilio error ${code}`,
          eventId: `${body.MessageSid ?? messageId}:${body.MessageStatus}`,
        };
        return { status: 200, body: await record([item], 0) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/t/open/:token',
      operationId: 'trackOpen',
      summary: 'Open pixel',
      tag: 'delivery',
      params: z.strictObject({ token: z.string().min(1).max(1024) }),
      responses: { 200: { description: 'A 1×1 transparent GIF.', contentType: 'image/gif' } },
      errors: { 404: 'NOT_FOUND: not a valid tracking link (or tracking is off)' },
      async handle({ params }) {
        const messageId = tracked('open', params.token);
        await record([{ messageId, kind: 'opened', at: engine.clock.now() }], 0);
        return {
          status: 200,
          body: PIXEL,
          contentType: 'image/gif',
          headers: { 'cache-control': 'no-store, private' },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/t/click/:token',
      operationId: 'trackClick',
      summary: 'Click redirect',
      description: 'Records the click and redirects to the link, which the token signs.',
      tag: 'delivery',
      params: z.strictObject({ token: z.string().min(1).max(1024) }),
      query: z.strictObject({ url: z.string().min(1).max(4096) }),
      responses: { 302: { description: 'Redirect to the link.' } },
      errors: { 404: 'NOT_FOUND: not a valid tracking link for this URL' },
      async handle({ params, query }) {
        if (!/^https?:\/\//iu.test(query.url)) {
          throw new InvalidInputError('url: expected an http(s) address');
        }
        const messageId = tracked('click', params.token, query.url);
        await record([{ messageId, kind: 'clicked', at: engine.clock.now(), url: query.url }], 0);
        return {
          status: 302,
          body: '',
          contentType: 'text/plain',
          headers: { location: query.url, 'cache-control': 'no-store, private' },
        };
      },
    }),
    ...(['GET', 'POST'] as const).map((method) =>
      defineRoute({
        method,
        url: '/v1/t/unsubscribe/:token',
        operationId: method === 'GET' ? 'unsubscribePage' : 'unsubscribeOneClick',
        summary:
          method === 'GET'
            ? 'Unsubscribe link'
            : 'One-click unsubscribe (RFC 8058, from mail clients)',
        tag: 'delivery',
        params: z.strictObject({ token: z.string().min(1).max(1024) }),
        responses: { 200: { description: 'Unsubscribed.', contentType: 'text/html' } },
        errors: { 404: 'NOT_FOUND: not a valid unsubscribe link' },
        async handle({ params }) {
          const messageId = tracked('unsubscribe', params.token);
          await record([{ messageId, kind: 'unsubscribed', at: engine.clock.now() }], 0);
          return {
            status: 200,
            contentType: 'text/html; charset=utf-8',
            body: '<!doctype html><meta charset="utf-8"><title>Unsubscribed</title><p>You are unsubscribed. You will not receive these messages any more.</p>',
          };
        },
      }),
    ),
  ];
}
