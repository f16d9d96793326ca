export { RecordingChannel, InAppInbox } from './channel.js';
export type { ChannelSender, SendOutcome } from './channel.js';
