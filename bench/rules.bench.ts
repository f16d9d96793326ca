/**
 * Conditions and rules against peer libraries, in one process, over the same 10,000 customers.
 *
 * 1. The specification's "Expansion Ready" trigger (three AND-ed comparisons): Waymark
 *    `compileConditions` (and its reference interpreter, for scale) vs json-logic-js
 *    (`jsonLogic.apply`), json-logic-engine interpreted (`LogicEngine.run`) and compiled (`build`),
 *    and json-rules-engine (one `Engine`, `await engine.run(facts)` per customer).
 * 2. A 50-rule set (bench/rule-catalogue.ts): Waymark `ruleSet.evaluate` over the batch vs
 *    json-rules-engine (50 rules in one Engine), json-logic-engine (50 built functions) and
 *    json-logic-js (50 `apply` calls per customer).
 *
 * Before anything is timed, every engine's answer for every customer is compared (see peers.ts for
 * where the semantics legitimately differ and how that is handled). Each timed pass returns a
 * number built from every result, which the harness accumulates, so no result is dead code.
 */
import jsonLogic from 'json-logic-js';
import { LogicEngine } from 'json-logic-engine';
import { Engine } from 'json-rules-engine';
import { generateCustomers, type Customer } from './customers.js';
import {
  formatRate,
  formatRatio,
  formatSpread,
  measure,
  measureAsync,
  type Benchmark,
  type BenchmarkReport,
  type MeasureOptions,
  type Measurement,
  type ReportCheck,
  type ReportTable,
} from './harness.js';
import {
  RULES_ENGINE_CUSTOM_OPERATORS,
  inOrderingDomain,
  ruleToJsonLogic,
  ruleToRulesEngine,
  toJsonLogic,
  toRulesEngine,
  type JsonLogic,
} from './peers.js';
import { EXPANSION_READY, ruleCatalogue } from './rule-catalogue.js';
import {
  compileConditions,
  compileRuleSet,
  evaluateConditions,
  type RuleContext,
  type RuleDefinition,
} from './waymark.js';

const CUSTOMER_COUNT = 10_000;
const RULE_COUNT = 50;
/** A fixed instant: the rule set has no schedules, but `evaluate` needs a `now`. */
const NOW = Date.parse('2026-01-15T10:00:00Z');

type Predicate = (data: unknown) => unknown;

/**
 * json-rules-engine takes tens of seconds for one pass over all customers with 50 rules, so its
 * passes take the customers in consecutive slices of this size (every customer is still covered,
 * slice after slice) and its rate stays comparable: units per second either way.
 */
const RULES_ENGINE_SLICE = 1_000;

/** A pass over the next `RULES_ENGINE_SLICE` customers, wrapping around. */
function slicedPasses(
  customers: readonly Customer[],
  run: (customer: Customer) => Promise<number>,
): () => Promise<number> {
  let offset = 0;
  return async () => {
    let count = 0;
    for (let i = 0; i < RULES_ENGINE_SLICE; i++) {
      count += await run(customers[(offset + i) % customers.length] as Customer);
    }
    offset = (offset + RULES_ENGINE_SLICE) % customers.length;
    return count;
  };
}

function newRulesEngine(): Engine {
  // Customers lack fields; by default json-rules-engine throws on an undefined fact.
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator('exists', RULES_ENGINE_CUSTOM_OPERATORS.exists);
  engine.addOperator('notExists', RULES_ENGINE_CUSTOM_OPERATORS.notExists);
  return engine;
}

/** Tally of how a peer's answers compare with Waymark's. */
interface Agreement {
  peer: string;
  /** Comparisons inside the common semantics, and how many of them disagreed (must be 0). */
  inDomain: number;
  inDomainDisagreements: number;
  /** Comparisons outside it, and how many gave a different answer there (informational). */
  outOfDomain: number;
  outOfDomainDisagreements: number;
  /** Calls that threw (counted as `false`). */
  threw: number;
}

function newAgreement(peer: string): Agreement {
  return {
    peer,
    inDomain: 0,
    inDomainDisagreements: 0,
    outOfDomain: 0,
    outOfDomainDisagreements: 0,
    threw: 0,
  };
}

function tally(agreement: Agreement, inDomain: boolean, same: boolean): void {
  if (inDomain) {
    agreement.inDomain++;
    if (!same) agreement.inDomainDisagreements++;
  } else {
    agreement.outOfDomain++;
    if (!same) agreement.outOfDomainDisagreements++;
  }
}

function answer(agreement: Agreement, call: () => unknown): boolean {
  try {
    return call() === true;
  } catch {
    agreement.threw++;
    return false;
  }
}

function agreementCheck(agreement: Agreement, what: string): ReportCheck {
  return {
    name: `${agreement.peer} agrees with Waymark (${what})`,
    passed: agreement.inDomainDisagreements === 0 && agreement.inDomain > 0,
    detail:
      `${agreement.inDomain - agreement.inDomainDisagreements}/${agreement.inDomain} identical inside the ` +
      `common semantics; outside it (non-number in an ordering comparison) ` +
      `${agreement.outOfDomainDisagreements}/${agreement.outOfDomain} differ` +
      (agreement.threw > 0 ? `; ${agreement.threw} calls threw` : ''),
  };
}

function agreementTable(title: string, agreements: readonly Agreement[]): ReportTable {
  return {
    title,
    columns: [
      'Peer',
      'compared (common semantics)',
      'disagreements',
      'compared (outside)',
      'differ outside',
    ],
    rows: agreements.map((a) => [
      a.peer,
      a.inDomain.toLocaleString('en-US'),
      String(a.inDomainDisagreements),
      a.outOfDomain.toLocaleString('en-US'),
      a.outOfDomainDisagreements.toLocaleString('en-US'),
    ]),
  };
}

interface Row {
  measurement: Measurement;
  note: string;
}

function rateTable(
  title: string,
  rows: readonly Row[],
  baseline: Measurement,
  perUnit: number,
  unit: string,
  notes: readonly string[],
): ReportTable {
  const columns =
    perUnit === 1
      ? ['Engine', `${unit}/s`, 'spread', 'Waymark is', 'notes']
      : ['Engine', `${unit}/s`, 'rule evaluations/s', 'spread', 'Waymark is', 'notes'];
  return {
    title,
    columns,
    rows: rows.map(({ measurement, note }) => {
      const ratio = formatRatio(baseline.perSecond / measurement.perSecond);
      const rate = formatRate(measurement.perSecond);
      const spread = formatSpread(measurement);
      return perUnit === 1
        ? [measurement.name, rate, spread, ratio, note]
        : [
            measurement.name,
            rate,
            formatRate(measurement.perSecond * perUnit),
            spread,
            ratio,
            note,
          ];
    }),
    notes,
  };
}

async function expansionReady(
  customers: readonly Customer[],
  contexts: readonly RuleContext[],
  options: MeasureOptions,
  checks: ReportCheck[],
): Promise<{ tables: ReportTable[]; data: unknown }> {
  const waymark = compileConditions(EXPANSION_READY);
  const logic = toJsonLogic(EXPANSION_READY);
  const logicEngine = new LogicEngine();
  const built = logicEngine.build(logic) as Predicate;
  const rulesEngine = newRulesEngine();
  rulesEngine.addRule({
    name: 'expansion_ready',
    conditions: toRulesEngine(EXPANSION_READY),
    event: { type: 'expansion_ready' },
  });

  // Agreement, customer by customer.
  const domain = inOrderingDomain(EXPANSION_READY);
  const peers = {
    reference: newAgreement('Waymark evaluateConditions'),
    logicJs: newAgreement('json-logic-js'),
    engineRun: newAgreement('json-logic-engine (interpreted)'),
    engineBuilt: newAgreement('json-logic-engine (compiled)'),
    rulesEngine: newAgreement('json-rules-engine'),
  };
  let matches = 0;
  let referenceMismatches = 0;
  for (let i = 0; i < customers.length; i++) {
    const customer = customers[i] as Customer;
    const context = contexts[i] as RuleContext;
    const inDomain = domain(customer);
    const expected = waymark(context);
    if (expected) matches++;
    const reference = evaluateConditions(EXPANSION_READY, context);
    if (reference !== expected) referenceMismatches++;
    // Waymark's compiled and reference forms share semantics: they must agree everywhere.
    tally(peers.reference, true, reference === expected);
    tally(
      peers.logicJs,
      inDomain,
      answer(peers.logicJs, () => jsonLogic.apply(logic, customer)) === expected,
    );
    tally(
      peers.engineRun,
      inDomain,
      answer(peers.engineRun, () => logicEngine.run(logic, customer)) === expected,
    );
    tally(
      peers.engineBuilt,
      inDomain,
      answer(peers.engineBuilt, () => built(customer)) === expected,
    );
    const result = await rulesEngine.run(customer);
    tally(peers.rulesEngine, inDomain, result.events.length > 0 === expected);
  }
  for (const agreement of Object.values(peers)) {
    checks.push(agreementCheck(agreement, 'Expansion Ready, per customer'));
  }

  // Timing.
  const n = contexts.length;
  const waymarkRate = measure(
    'Waymark compileConditions',
    n,
    () => {
      let count = 0;
      for (let i = 0; i < n; i++) if (waymark(contexts[i] as RuleContext)) count++;
      return count;
    },
    options,
  );
  const rows: Row[] = [
    { measurement: waymarkRate, note: 'generated JS, one function' },
    {
      measurement: measure(
        'Waymark evaluateConditions',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) {
            if (evaluateConditions(EXPANSION_READY, contexts[i] as RuleContext)) count++;
          }
          return count;
        },
        options,
      ),
      note: 'reference interpreter (not for production use)',
    },
    {
      measurement: measure(
        'json-logic-engine (compiled)',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) if (built(customers[i]) === true) count++;
          return count;
        },
        options,
      ),
      note: '`engine.build(logic)`',
    },
    {
      measurement: measure(
        'json-logic-engine (interpreted)',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) if (logicEngine.run(logic, customers[i]) === true) count++;
          return count;
        },
        options,
      ),
      note: '`engine.run(logic, data)`',
    },
    {
      measurement: measure(
        'json-logic-js',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) if (jsonLogic.apply(logic, customers[i]) === true) count++;
          return count;
        },
        options,
      ),
      note: '`jsonLogic.apply(logic, data)`',
    },
    {
      measurement: await measureAsync(
        'json-rules-engine',
        RULES_ENGINE_SLICE,
        slicedPasses(
          customers,
          async (customer) => (await rulesEngine.run(customer)).events.length,
        ),
        options,
      ),
      note: '`await engine.run(facts)` per customer',
    },
  ];
  const byName = (name: string): Measurement =>
    (rows.find((row) => row.measurement.name === name) as Row).measurement;
  const vsCompiled = waymarkRate.perSecond / byName('json-logic-engine (compiled)').perSecond;
  const vsRulesEngine = waymarkRate.perSecond / byName('json-rules-engine').perSecond;
  const goals = [
    `Goal: compileConditions >= json-logic-engine compiled: ${vsCompiled >= 1 ? 'met' : 'NOT met'} (${formatRatio(vsCompiled)}).`,
    `Goal: compileConditions >= 200× json-rules-engine: ${vsRulesEngine >= 200 ? 'met' : 'NOT met'} (${formatRatio(vsRulesEngine)}).`,
  ];
  return {
    tables: [
      rateTable(
        `Expansion Ready over ${n.toLocaleString('en-US')} customers (${matches.toLocaleString('en-US')} match)`,
        rows,
        waymarkRate,
        1,
        'evaluations',
        goals,
      ),
      agreementTable('Expansion Ready: agreement with Waymark', Object.values(peers)),
    ],
    data: {
      matches,
      referenceMismatches,
      agreement: peers,
      measurements: rows.map((row) => row.measurement),
      ratios: { vsJsonLogicEngineCompiled: vsCompiled, vsJsonRulesEngine: vsRulesEngine },
    },
  };
}

async function ruleSet50(
  customers: readonly Customer[],
  contexts: readonly RuleContext[],
  options: MeasureOptions,
  checks: ReportCheck[],
): Promise<{ tables: ReportTable[]; data: unknown }> {
  const rules: RuleDefinition[] = ruleCatalogue(RULE_COUNT);
  const ruleSet = compileRuleSet(rules);
  // The same rules with placeholder-free params: what deciding costs without rendering templates.
  const plainRuleSet = compileRuleSet(
    rules.map((rule) => ({
      ...rule,
      actions: rule.actions.map((action) => ({ ...action, params: { journey_id: 'expansion' } })),
    })),
  );
  const predicates = rules.map((rule) => ({
    matches: compileConditions(rule.conditions),
    blocked: rule.exceptions === undefined ? undefined : compileConditions(rule.exceptions),
  }));
  const logics: JsonLogic[] = rules.map((rule) =>
    ruleToJsonLogic(rule.conditions, rule.exceptions),
  );
  const logicEngine = new LogicEngine();
  const built = logics.map((logic) => logicEngine.build(logic) as Predicate);
  const rulesEngine = newRulesEngine();
  for (const rule of rules) {
    rulesEngine.addRule({
      name: rule.id,
      // json-rules-engine runs higher priorities first; Waymark runs lower numbers first.
      priority: 1000 - (rule.priority ?? 100),
      conditions: ruleToRulesEngine(rule.conditions, rule.exceptions),
      event: { type: rule.id },
    });
  }

  // Agreement: for every customer, which rules fire.
  const domains = rules.map((rule) => inOrderingDomain(rule.conditions, rule.exceptions));
  const evaluations = ruleSet.evaluate(contexts, { now: NOW, explain: 'none' });
  const peers = {
    reference: newAgreement('naive evaluateConditions loop'),
    logicJs: newAgreement('json-logic-js'),
    engineBuilt: newAgreement('json-logic-engine (compiled)'),
    rulesEngine: newAgreement('json-rules-engine'),
  };
  let fired = 0;
  let blocked = 0;
  let orderViolations = 0;
  let customersFullyInDomain = 0;
  let customersFullyInDomainIdentical = 0;
  const firesPerRule = new Map<string, number>(rules.map((rule) => [rule.id, 0]));
  for (let i = 0; i < customers.length; i++) {
    const customer = customers[i] as Customer;
    const context = contexts[i] as RuleContext;
    const evaluation = evaluations[i];
    if (evaluation === undefined) throw new Error('missing evaluation');
    const firedIds = new Set(evaluation.fired.map((rule) => rule.ruleId));
    fired += firedIds.size;
    blocked += evaluation.skipped.length;
    for (let r = 1; r < evaluation.fired.length; r++) {
      if ((evaluation.fired[r - 1]?.priority ?? 0) > (evaluation.fired[r]?.priority ?? 0))
        orderViolations++;
    }
    const events = new Set((await rulesEngine.run(customer)).events.map((event) => event.type));
    let fullyInDomain = true;
    let identical = true;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r] as RuleDefinition;
      const expected = firedIds.has(rule.id);
      if (expected) firesPerRule.set(rule.id, (firesPerRule.get(rule.id) ?? 0) + 1);
      const inDomain = (domains[r] as (c: Customer) => boolean)(customer);
      fullyInDomain &&= inDomain;
      const reference =
        evaluateConditions(rule.conditions, context) &&
        !(rule.exceptions !== undefined && evaluateConditions(rule.exceptions, context));
      tally(peers.reference, true, reference === expected);
      const logicJs = answer(peers.logicJs, () =>
        jsonLogic.apply(logics[r] as JsonLogic, customer),
      );
      const engineBuilt = answer(peers.engineBuilt, () => (built[r] as Predicate)(customer));
      const rulesEngineFired = events.has(rule.id);
      tally(peers.logicJs, inDomain, logicJs === expected);
      tally(peers.engineBuilt, inDomain, engineBuilt === expected);
      tally(peers.rulesEngine, inDomain, rulesEngineFired === expected);
      identical &&=
        reference === expected &&
        logicJs === expected &&
        engineBuilt === expected &&
        rulesEngineFired === expected;
    }
    if (fullyInDomain) {
      customersFullyInDomain++;
      if (identical) customersFullyInDomainIdentical++;
    }
  }
  for (const agreement of Object.values(peers)) {
    checks.push(agreementCheck(agreement, `${RULE_COUNT} rules, per customer and rule`));
  }
  checks.push({
    name: 'customers whose every rule is inside the common semantics get identical fired sets',
    passed:
      customersFullyInDomain > 0 && customersFullyInDomain === customersFullyInDomainIdentical,
    detail: `${customersFullyInDomainIdentical}/${customersFullyInDomain} customers`,
  });
  checks.push({
    name: 'fired rules are in priority order',
    passed: orderViolations === 0,
    detail: `${orderViolations} out-of-order pairs`,
  });
  const neverFired = [...firesPerRule].filter(([, count]) => count === 0).map(([id]) => id);

  // Timing.
  const n = contexts.length;
  const evaluateNone = measure(
    'Waymark ruleSet.evaluate',
    n,
    () => {
      let count = 0;
      for (const evaluation of ruleSet.evaluate(contexts, { now: NOW, explain: 'none' })) {
        count += evaluation.fired.length;
      }
      return count;
    },
    options,
  );
  const rows: Row[] = [
    {
      measurement: evaluateNone,
      note: "`explain: 'none'`; resolves every fired rule's actions (templates, delays)",
    },
    {
      measurement: measure(
        'Waymark ruleSet.evaluate (explained)',
        n,
        () => {
          let count = 0;
          for (const evaluation of ruleSet.evaluate(contexts, { now: NOW, explain: 'fired' })) {
            count += evaluation.fired.length;
          }
          return count;
        },
        options,
      ),
      note: "`explain: 'fired'` (the default): explanation trees for fired and blocked rules",
    },
    {
      measurement: measure(
        'Waymark ruleSet.evaluate (params without placeholders)',
        n,
        () => {
          let count = 0;
          for (const evaluation of plainRuleSet.evaluate(contexts, { now: NOW, explain: 'none' })) {
            count += evaluation.fired.length;
          }
          return count;
        },
        options,
      ),
      note: "`explain: 'none'`; same rules, constant params: the decision without template rendering",
    },
    {
      measurement: measure(
        'Waymark compiled predicates only',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) {
            const context = contexts[i] as RuleContext;
            for (const { matches, blocked } of predicates) {
              if (matches(context) && !(blocked !== undefined && blocked(context))) count++;
            }
          }
          return count;
        },
        options,
      ),
      note: '100 `compileConditions` functions in a loop, no results built (the floor)',
    },
    {
      measurement: measure(
        'json-logic-engine (compiled)',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) {
            const customer = customers[i];
            for (const predicate of built) if (predicate(customer) === true) count++;
          }
          return count;
        },
        options,
      ),
      note: '50 `engine.build(logic)` functions',
    },
    {
      measurement: measure(
        'json-logic-js',
        n,
        () => {
          let count = 0;
          for (let i = 0; i < n; i++) {
            const customer = customers[i];
            for (const logic of logics) if (jsonLogic.apply(logic, customer) === true) count++;
          }
          return count;
        },
        options,
      ),
      note: '50 `jsonLogic.apply` calls per customer',
    },
    {
      measurement: await measureAsync(
        'json-rules-engine',
        RULES_ENGINE_SLICE,
        slicedPasses(
          customers,
          async (customer) => (await rulesEngine.run(customer)).events.length,
        ),
        options,
      ),
      note: '50 rules in one `Engine`, `await engine.run(facts)` per customer',
    },
  ];
  const meanFired = fired / customers.length;
  const meanBlocked = blocked / customers.length;
  return {
    tables: [
      rateTable(
        `${RULE_COUNT}-rule set over ${n.toLocaleString('en-US')} customers ` +
          `(per customer on average ${meanFired.toFixed(2)} rules fire and ${meanBlocked.toFixed(2)} are blocked by exceptions)`,
        rows,
        evaluateNone,
        RULE_COUNT,
        'customers',
        neverFired.length === 0
          ? []
          : [`Rules that never fire on this data: ${neverFired.join(', ')}.`],
      ),
      agreementTable(
        `${RULE_COUNT}-rule set: agreement with Waymark (customer × rule)`,
        Object.values(peers),
      ),
    ],
    data: {
      meanFiredPerCustomer: meanFired,
      meanBlockedPerCustomer: meanBlocked,
      firesPerRule: Object.fromEntries(firesPerRule),
      customersFullyInDomain,
      customersFullyInDomainIdentical,
      agreement: peers,
      measurements: rows.map((row) => row.measurement),
    },
  };
}

/** The rules benchmark (`npm run bench -- rules`). */
export const rulesBenchmark: Benchmark = {
  name: 'rules',
  description: 'Expansion Ready and a 50-rule set vs json-rules-engine and json-logic',
  run: async (options) => {
    const customers = generateCustomers(CUSTOMER_COUNT);
    const contexts: RuleContext[] = customers.map((customer) => ({
      customerId: customer['id'] as string,
      customer,
    }));
    const checks: ReportCheck[] = [];
    const first = await expansionReady(customers, contexts, options, checks);
    const second = await ruleSet50(customers, contexts, options, checks);
    const report: BenchmarkReport = {
      tables: [...first.tables, ...second.tables],
      checks,
      data: { customers: CUSTOMER_COUNT, expansionReady: first.data, ruleSet: second.data },
    };
    return report;
  },
};
