import type { JourneyEventRecord } from './model.js';
import type { JourneyEvent } from './spec.js';

/**
 * A stored journey event in the guide's `JourneyEvent` wire shape (ISO timestamp), the one form
 * every publisher uses: the API, webhooks, `waymark simulate` output.
 */
export function toWireJourneyEvent(
  event: JourneyEventRecord,
): JourneyEvent & { timestamp: string } {
  return {
    type: event.type,
    journey_id: event.journeyId,
    customer_id: event.customerId,
    timestamp: new Date(event.timestamp).toISOString(),
    data: event.data,
  };
}
