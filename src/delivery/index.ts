export { RecordingChannel, InAppInbox } from './channel.js';
export type { ChannelSender, SendOutcome } from './channel.js';
export {
  JourneyEventWebhooks,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type JourneyEventWebhooksOptions,
} from './journey-webhooks.js';
