/**
 * The specification's interfaces (journey-orchestration-guide.md), as the package exports them.
 * Where the guide writes `any`, these say `unknown`; where it writes `Date`, the wire format is an
 * ISO-8601 string and the core works in epoch milliseconds (see `Instant`).
 */

/** Epoch milliseconds (UTC). Every instant inside the core is one of these. */
export type Instant = number;

/** Customer lifecycle events (the guide's `CustomerEvent`). */
export interface CustomerEvent {
  type: 'customer.created' | 'customer.updated' | 'customer.deleted';
  customer_id: string;
  timestamp: Date | string;
  changes?: Record<string, unknown>;
}

/** Behavioural events (the guide's `BehaviorEvent`). */
export interface BehaviorEvent {
  type: 'page.viewed' | 'feature.used' | 'action.completed';
  customer_id: string;
  properties: Record<string, unknown>;
  timestamp: Date | string;
}

/** Service events (the guide's `ServiceEvent`). */
export interface ServiceEvent {
  type: 'service.scheduled' | 'service.completed' | 'service.cancelled';
  customer_id: string;
  service_id: string;
  timestamp: Date | string;
}

/** A journey event: what webhooks receive, `waymark simulate` prints and the dashboard counts. */
export interface JourneyEvent {
  type: string;
  journey_id: string;
  customer_id: string;
  timestamp: Date | string;
  data: Record<string, unknown>;
}

/** Publishes journey events to external systems (the guide's `EventPublisher`). */
export interface EventPublisher {
  publish(event: JourneyEvent): Promise<void>;
}

/** A model's prediction for one customer (the guide's `AIPrediction`). */
export interface AIPrediction {
  model: string;
  customer_id: string;
  prediction: {
    action: string;
    confidence: number;
    timing: Date | string;
    reasoning: string[];
  };
}

/** One past interaction, as given to the next-best-action engine. */
export interface Interaction {
  type: string;
  channel?: string;
  timestamp: Date | string;
  [key: string]: unknown;
}

/** The guide's `NBActionRequest`. */
export interface NBActionRequest {
  customer_id: string;
  context: {
    current_journey?: string;
    recent_interactions: Interaction[];
    available_actions: string[];
  };
}

/** The guide's `NBActionResponse`. */
export interface NBActionResponse {
  recommended_action: {
    action_type: string;
    action_params: Record<string, unknown>;
    confidence: number;
    reasoning: string;
  };
  alternatives: { action_type: string; confidence: number }[];
  timing: {
    optimal_time: Date | string;
    time_window: { start: Date | string; end: Date | string };
  };
}

/** A delivery channel name (`email`, `sms`, `in_app`, `push`, `webhook`, `tasks`, or a configured one). */
export type Channel = string;

/** The guide's `ChannelDecision`. */
export interface ChannelDecision {
  primary: Channel;
  fallback: Channel[];
  reasoning: string;
}

/** The guide's `DeadLetterItem`. */
export interface DeadLetterItem {
  id: string;
  original_message: Record<string, unknown>;
  failure_reason: string;
  attempt_count: number;
  timestamps: { first_attempt: Date | string; last_attempt: Date | string };
  status: 'pending_review' | 'retrying' | 'abandoned';
}
