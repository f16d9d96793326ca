/**
 * Loopback stand-ins for the providers Waymark talks to, each speaking the real service's
 * request and response formats, with switchable faults. Tests import them from here.
 */
export { FcmFake, type FcmFakeMessage, type FcmFakeOptions } from './fcm-fake.js';
export { SendgridFake, type SendgridAccepted, type SendgridFakeOptions } from './sendgrid-fake.js';
export { SmtpFake, type ReceivedMail, type SmtpFakeOptions } from './smtp-fake.js';
export {
  TwilioFake,
  type TwilioFakeMessage,
  type TwilioFakeOptions,
  type TwilioFakeRequest,
} from './twilio-fake.js';
export {
  WebhookReceiver,
  type WebhookDelivery,
  type WebhookReceiverOptions,
} from './webhook-receiver.js';
