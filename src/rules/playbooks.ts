/**
 * Customer Success playbooks as data: the four risk-tier playbooks, onboarding,
 * renewal, expansion signals and the escalation matrix with its message template, plus the
 * rules that turn them into CTAs ("a prioritised task … in the owning CSM's queue")
 * and the churn-alert settings ("first automated churn alert delivered to Slack").
 *
 * Like config.ts this is business rules, not code: the build (loaders/cta.ts, the CTA and
 * escalation SQL), the alert sender (loaders/alerts/) and the pages read these objects, so a
 * CS Ops admin edits a step title, a response time or a retry limit here and nowhere else.
 * config.ts re-exports it as `config.playbooks`; so that the two modules never depend on each
 * other while loading, this file imports only types from config.ts (validatePlaybooks takes the
 * config as an argument).
 *
 * Day offsets are counted from the day the play starts (the CTA's creation date for risk
 * plays, the signup date for onboarding). "Week n" in a playbook is converted to days
 * (week 2 = days 8–14, week 2–4 = days 8–28), so the build can tell which step is current.
 */
import type {RiskTier} from "./config.js";
import type {Meaning} from "./vocabulary.js";

/** CTA priority. The names match the risk tiers, and a priority's due date is its tier's act-within window. */
export type Priority = "critical" | "high" | "medium" | "low";
export const PRIORITIES: readonly Priority[] = ["critical", "high", "medium", "low"];

export interface PlaybookStep {
  /** stable id, used in marts.mart_cta_queue.step_id */
  id: string;
  title: string;
  /** first and last day of the step, counted from the start of the play (day 0) */
  startDay: number;
  endDay: number | null;
  actions: readonly string[];
}

export interface RiskPlaybook {
  id: string;
  tier: RiskTier;
  name: string;
  /** inclusive 0–100 risk-score band; the live bands are config.riskTiers */
  scoreBand: readonly [number, number];
  situation: string;
  /** "Timeline"; the number the build uses is config.riskTiers[].actWithinHours */
  timeline: string;
  steps: readonly PlaybookStep[];
  successCriteria: string;
  /** success criteria as checkable numbers: risk score below this within `withinDays` */
  successTarget: {riskScoreBelow: number; withinDays: number} | null;
}

export interface OnboardingActivity {
  startDay: number;
  endDay: number;
  activity: string;
  owner: string;
  deliverable: string;
}

export interface OnboardingPhase {
  id: string;
  name: string;
  startDay: number;
  endDay: number;
  activities: readonly OnboardingActivity[];
}

export interface RenewalStage {
  id: string;
  /** days before the renewal date at which the stage opens; null = post-renewal */
  daysBefore: number | null;
  name: string;
  actions: readonly string[];
}

export interface ExpansionSignal {
  signal: string;
  expansionType: string;
  priority: "High" | "Medium";
  /** how the data shows it; null when the signal is not in SaaSGuard's data */
  detectedBy: string | null;
}

export type EscalationTriggerId =
  "health_red" | "sponsor_left" | "critical_bug" | "competitor_evaluation" | "renewal_at_risk" | "legal_threat";

export interface EscalationRule {
  id: EscalationTriggerId;
  trigger: string;
  level: string;
  /** "Response Time" in hours; 0 = immediate */
  responseHours: number;
  /** urgency written into the message; "tier" = critical for Critical accounts, else high */
  urgency: "critical" | "high" | "medium" | "tier";
  /**
   * How marts.mart_escalations detects it. null = the trigger is not in SaaSGuard's data
   * (no CRM contact-role history, no call transcripts, no legal feed), so no message is raised
   * rather than a guessed one; CSMs raise those escalations by hand.
   */
  detectedBy: string | null;
  /** the {brief_description} of the subject line */
  brief: string;
  recommendedAction: string;
}

/** A rule that raises a CTA. CTAs are de-duplicated on account + type + reason. */
export interface CtaRule {
  type: "risk" | "onboarding" | "support" | "engagement" | "renewal";
  /** stable reason code; part of the de-duplication key, so it never holds changing numbers */
  reason: string;
  /** human label of the reason shown in the queue */
  label: string;
  playbook: string;
  /** the step to work on; null = the playbook's step that matches the CTA's age */
  stepId: string | null;
  /** lowest priority; the account's own tier raises it (a Critical account's CTAs are critical) */
  minPriority: Priority;
}

export const riskPlaybooks: readonly RiskPlaybook[] = [
  {
    id: "critical_risk",
    tier: "Critical",
    name: "Critical Risk",
    scoreBand: [80, 100],
    situation:
      "Customer is at imminent risk of churn. Multiple severe warning signals detected. Requires immediate executive-level intervention.",
    timeline: "Act within 48 hours.",
    steps: [
      {
        id: "executive_escalation",
        title: "Executive Escalation",
        startDay: 0,
        endDay: 0,
        actions: [
          "Alert VP of Customer Success and account executive immediately",
          "Brief internal leadership on situation, warning signals, and ARR at risk",
          "Identify any pending support issues and fast-track resolution",
        ],
      },
      {
        id: "customer_contact",
        title: "Customer Contact",
        startDay: 1,
        endDay: 2,
        actions: [
          "Schedule executive-to-executive call (VP CS to customer VP/C-level)",
          "Frame the conversation around understanding their challenges, not defending your product",
          "Listen more than talk -- capture the real objections",
        ],
      },
      {
        id: "save_plan",
        title: "Save Plan Creation",
        startDay: 2,
        endDay: 3,
        actions: [
          "Create a detailed save plan with specific value milestones tied to their business outcomes",
          "Include timeline, owners, and measurable success criteria",
          "Get internal alignment on any concessions (pricing, features, roadmap commitments)",
        ],
      },
      {
        id: "rescue_team",
        title: "Rescue Team Assignment",
        startDay: 3,
        endDay: 5,
        actions: [
          "Assign a dedicated rescue team: CSM + Solutions Engineer + Support Lead",
          "Daily internal stand-up (15 min max) on account status",
          "Solutions Engineer to conduct technical health check",
        ],
      },
      {
        id: "execution_monitoring",
        title: "Execution and Monitoring",
        startDay: 8,
        endDay: 28,
        actions: [
          "Execute save plan with weekly customer check-ins",
          "Track progress against milestones",
          "Prepare competitive displacement defence if competitor involvement detected",
        ],
      },
      {
        id: "resolution_assessment",
        title: "Resolution Assessment",
        startDay: 22,
        endDay: 28,
        actions: [
          "Evaluate whether the situation is stabilising",
          "If improving: transition to High-risk monitoring cadence",
          "If not improving: escalate to CEO/GM for final intervention",
        ],
      },
    ],
    successCriteria: "Risk score drops below 60 within 30 days. Customer confirms continued partnership intent.",
    successTarget: {riskScoreBelow: 60, withinDays: 30},
  },
  {
    id: "high_risk",
    tier: "High",
    name: "High Risk",
    scoreBand: [60, 79],
    situation:
      "Customer showing clear signs of dissatisfaction or disengagement. Still salvageable with focused CSM intervention.",
    timeline: "Act within 1 week.",
    steps: [
      {
        id: "root_cause_analysis",
        title: "Root Cause Analysis",
        startDay: 1,
        endDay: 3,
        actions: [
          "Review all health score dimensions to identify the primary drivers",
          "Pull support ticket history for patterns",
          "Check product usage trends for the past 90 days",
        ],
      },
      {
        id: "csm_outreach",
        title: "CSM Outreach",
        startDay: 3,
        endDay: 5,
        actions: [
          "Schedule a dedicated call with the customer (not a routine check-in)",
          "Open with empathy: \"I've noticed some changes and want to make sure we're supporting you properly\"",
          "Identify the top 3 customer concerns",
        ],
      },
      {
        id: "recovery_plan",
        title: "30-Day Recovery Plan",
        startDay: 5,
        endDay: 7,
        actions: [
          "Build a 30-day recovery plan with measurable checkpoints every week",
          "Include specific actions for each concern identified",
          "Share the plan with the customer for mutual commitment",
        ],
      },
      {
        id: "executive_sponsor",
        title: "Re-Engage Executive Sponsor",
        startDay: 8,
        endDay: 14,
        actions: [
          "Request a meeting with the executive sponsor",
          "Align on business outcomes and how your product supports them",
          "Confirm continued sponsorship and address any political changes",
        ],
      },
      // "Ongoing" in the playbook: it runs alongside the other steps, so CTAs reach it only by rule (support_overload)
      {
        id: "support_fast_track",
        title: "Support Fast-Track",
        startDay: 1,
        endDay: null,
        actions: [
          "Escalate any pending support tickets internally",
          "Assign a support point of contact for this account",
          "Provide weekly status updates on open issues",
        ],
      },
      {
        id: "progress_review",
        title: "Progress Review",
        startDay: 15,
        endDay: 28,
        actions: [
          "Review all metrics for improvement",
          "Adjust plan if specific interventions are not working",
          "If score drops to Critical: escalate to executive playbook",
        ],
      },
    ],
    successCriteria: "Risk score drops below 40 within 30 days. No new warning signals emerge.",
    successTarget: {riskScoreBelow: 40, withinDays: 30},
  },
  {
    id: "medium_risk",
    tier: "Medium",
    name: "Medium Risk",
    scoreBand: [40, 59],
    situation:
      "Early warning signs detected. Customer may not be aware of emerging issues. Proactive outreach prevents escalation.",
    timeline: "Act within 2 weeks.",
    steps: [
      {
        id: "data_review",
        title: "Data Review",
        startDay: 1,
        endDay: 5,
        actions: [
          "Analyse which dimension(s) are pulling the score down",
          "Review recent support interactions for sentiment clues",
          "Check for any known product issues affecting this customer",
        ],
      },
      {
        id: "proactive_check_in",
        title: "Proactive Check-In",
        startDay: 6,
        endDay: 14,
        actions: [
          'Schedule a "value check-in" call (position it as routine, not reactive)',
          "Share relevant success stories from similar customers",
          "Propose a training session or product walkthrough for underutilised features",
        ],
      },
      {
        id: "value_reinforcement",
        title: "Value Reinforcement",
        startDay: 15,
        endDay: 21,
        actions: [
          "Send a customised ROI summary showing value delivered",
          "Highlight feature releases relevant to their use case",
          "Connect them with your customer community or user group",
        ],
      },
      {
        id: "monitoring",
        title: "Monitoring",
        startDay: 22,
        endDay: 28,
        actions: [
          "Increase monitoring frequency to bi-weekly",
          "Watch for improvement or continued decline",
          "If declining: move to High-risk playbook",
        ],
      },
    ],
    // "stabilises above 50": risk score 50 is health score 50 (risk = 100 − health)
    successCriteria: "Score stabilises above 50 or improves. No escalation to High risk.",
    successTarget: null,
  },
  {
    id: "low_risk",
    tier: "Low",
    name: "Low Risk",
    scoreBand: [0, 39],
    situation:
      "Customer is healthy. Standard success cadence applies. Focus on value reinforcement and expansion readiness.",
    timeline: "Standard touch cadence.",
    steps: [
      {
        id: "maintain_cadence",
        title: "Maintain Cadence",
        startDay: 0,
        endDay: null,
        actions: [
          "Enterprise: Monthly strategic reviews, quarterly QBRs",
          "Mid-Market: Bi-monthly check-ins, semi-annual reviews",
          "SMB: Quarterly automated health updates, annual review",
        ],
      },
      {
        id: "proactive_communication",
        title: "Proactive Communication",
        startDay: 0,
        endDay: null,
        actions: [
          "Share product updates and release notes",
          "Invite to webinars, conferences, and community events",
          "Share relevant industry insights and benchmarks",
        ],
      },
      {
        id: "expansion_readiness",
        title: "Expansion Readiness",
        startDay: 0,
        endDay: null,
        actions: [
          "Monitor for expansion signals (usage approaching limits, new use cases)",
          "Prepare expansion proposals when timing is right",
          "Position premium features and modules relevant to their needs",
        ],
      },
      {
        id: "renewal_preparation",
        title: "Renewal Preparation",
        startDay: 0,
        endDay: null,
        actions: [
          "Begin renewal preparation 90 days before contract end",
          "Build renewal proposal with value delivered summary",
          "Identify any terms or pricing adjustments needed",
        ],
      },
    ],
    successCriteria: "Customer remains in Green classification. Expansion conversations initiated when appropriate.",
    successTarget: null,
  },
];

export const onboarding = {
  id: "onboarding",
  name: "Onboarding",
  phases: [
    {
      id: "welcome_setup",
      name: "Welcome and Setup",
      startDay: 1,
      endDay: 14,
      activities: [
        {
          startDay: 1,
          endDay: 1,
          activity: "Welcome email and introduction",
          owner: "CSM",
          deliverable: "Welcome package sent",
        },
        {startDay: 1, endDay: 2, activity: "Kickoff call", owner: "CSM + SE", deliverable: "Success plan drafted"},
        {
          startDay: 3,
          endDay: 5,
          activity: "Technical setup and configuration",
          owner: "SE",
          deliverable: "Environment configured",
        },
        {startDay: 5, endDay: 7, activity: "Admin training session", owner: "CSM", deliverable: "Admins trained"},
        {
          startDay: 7,
          endDay: 10,
          activity: "Data migration (if applicable)",
          owner: "SE",
          deliverable: "Data validated",
        },
        {startDay: 10, endDay: 14, activity: "Initial user training", owner: "CSM", deliverable: "Core team trained"},
      ],
    },
    {
      id: "activation",
      name: "Activation",
      startDay: 15,
      endDay: 30,
      activities: [
        {
          startDay: 15,
          endDay: 15,
          activity: "Activation check -- are users logging in?",
          owner: "CSM",
          deliverable: "Usage report",
        },
        {
          startDay: 15,
          endDay: 20,
          activity: "Follow-up training for laggards",
          owner: "CSM",
          deliverable: "All users active",
        },
        {
          startDay: 20,
          endDay: 25,
          activity: "First business outcome milestone",
          owner: "CSM",
          deliverable: "Milestone achieved",
        },
        {startDay: 25, endDay: 30, activity: "30-day review call", owner: "CSM", deliverable: "Review documented"},
      ],
    },
    {
      id: "adoption",
      name: "Adoption",
      startDay: 31,
      endDay: 60,
      activities: [
        {
          startDay: 30,
          endDay: 40,
          activity: "Feature adoption expansion",
          owner: "CSM",
          deliverable: "New features in use",
        },
        {
          startDay: 40,
          endDay: 50,
          activity: "Integration setup (if applicable)",
          owner: "SE",
          deliverable: "Integrations live",
        },
        {
          startDay: 50,
          endDay: 60,
          activity: "Usage benchmarking vs. peers",
          owner: "CSM",
          deliverable: "Benchmark report",
        },
      ],
    },
    {
      id: "optimisation",
      name: "Optimisation",
      startDay: 61,
      endDay: 90,
      activities: [
        {
          startDay: 60,
          endDay: 70,
          activity: "Advanced use case workshop",
          owner: "CSM + SE",
          deliverable: "New use cases identified",
        },
        {startDay: 70, endDay: 80, activity: "ROI measurement", owner: "CSM", deliverable: "ROI documented"},
        {
          startDay: 80,
          endDay: 90,
          activity: "90-day executive review",
          owner: "CSM",
          deliverable: "Transition to steady-state",
        },
      ],
    },
  ] satisfies OnboardingPhase[],
  /** Critical milestone: time to first value must be under this many days. */
  timeToFirstValueDays: 30,
  /**
   * The activation gate the data can check: config.flags.activationGateIntegrations
   * integrations in the first 30 days; `onboarding_at_risk` in mart_customer_risk_scores.
   */
  activationGate: "Enough integrations connected in the first 30 days (config.flags.activationGateIntegrations)",
  /** Gate: handoff from onboarding to ongoing CSM management needs health Yellow or better. */
  handoffGate: {
    afterDay: 90,
    minHealthColour: "Yellow" as const,
    text: "Handoff from onboarding to ongoing CSM management. Health score must be Yellow or better.",
  },
} as const;

export const renewal = {
  id: "renewal",
  name: "Renewal",
  /** config.renewalStagesDays is derived from these daysBefore values */
  stages: [
    {
      id: "renewal_120d",
      daysBefore: 120,
      name: "120 Days Before Renewal",
      actions: [
        "Review contract terms and pricing",
        "Assess current health score and trajectory",
        "Identify any outstanding issues or concerns",
        "Begin internal alignment on renewal strategy",
      ],
    },
    {
      id: "renewal_90d",
      daysBefore: 90,
      name: "90 Days Before Renewal",
      actions: [
        "Schedule renewal conversation with customer",
        "Prepare value delivered summary (ROI, usage stats, milestones achieved)",
        "Draft renewal proposal with recommended terms",
        "If at-risk: escalate and begin risk mitigation",
      ],
    },
    {
      id: "renewal_60d",
      daysBefore: 60,
      name: "60 Days Before Renewal",
      actions: [
        "Present renewal proposal to customer",
        "Negotiate terms if needed",
        "Address any concerns raised during the process",
        "Escalate blockers to leadership",
      ],
    },
    {
      id: "renewal_30d",
      daysBefore: 30,
      name: "30 Days Before Renewal",
      actions: [
        "Finalise contract terms",
        "Obtain signatures",
        "Plan for any post-renewal actions (expansion, migration)",
        "Update CRM with renewal details",
      ],
    },
    {
      id: "renewal_post",
      daysBefore: null,
      name: "Post-Renewal",
      actions: [
        "Confirm renewed contract in systems",
        "Send thank-you and updated success plan",
        "Schedule next QBR",
        "Identify expansion opportunities",
      ],
    },
  ] satisfies RenewalStage[],
  /** The post-renewal CTA stays open this many days after the renewal date (not in the playbooks: a working assumption). */
  postRenewalDays: 14,
} as const;

export const expansionSignals: readonly ExpansionSignal[] = [
  {
    signal: "Seat utilisation > 90%",
    expansionType: "Seat expansion",
    priority: "High",
    detectedBy: "seat_utilisation > 0.9 (mart_customer_churn_features)",
  },
  {
    signal: "Requests for features in higher tier",
    expansionType: "Tier upsell",
    priority: "High",
    detectedBy: "premium_feature_trials_30d, feature_limit_hits_30d",
  },
  {signal: "New department inquiries", expansionType: "Department expansion", priority: "Medium", detectedBy: null},
  {
    signal: "High adoption of existing modules",
    expansionType: "Module cross-sell",
    priority: "Medium",
    detectedBy: "feature_uses_30d, events_per_seat_30d",
  },
  {
    signal: "Customer referencing competitors for missing features",
    expansionType: "Cross-sell",
    priority: "High",
    detectedBy: null,
  },
];

/** The playbooks' "Expansion Conversation Framework", in order. */
export const expansionConversation: readonly {step: string; guidance: string}[] = [
  {
    step: "Discovery",
    guidance:
      '"I noticed your team has been getting great value from [feature]. Have you considered how [new module] could help with [related business outcome]?"',
  },
  {
    step: "Value Framing",
    guidance: '"Companies similar to yours who adopted [module] saw [specific metric improvement]."',
  },
  {step: "Proposal", guidance: '"Based on your current usage, here\'s what the expansion would look like..."'},
  {
    step: "Stakeholder Alignment",
    guidance: "Involve the economic buyer early. The champion can advocate, but the budget holder decides.",
  },
  {step: "Close", guidance: "Coordinate with sales/account executive for commercial negotiation."},
];

/** The playbooks' "Internal Escalation Matrix", in the order it is written. */
export const escalationMatrix: readonly EscalationRule[] = [
  {
    id: "health_red",
    trigger: "Health score drops to Red",
    level: "VP Customer Success",
    responseHours: 24,
    urgency: "tier",
    detectedBy: "health_colour = 'Red' (risk tier High or Critical)",
    brief: "Health score dropped to Red",
    recommendedAction: "VP Customer Success to review within 24 hours and start the risk-tier playbook",
  },
  {
    id: "sponsor_left",
    trigger: "Executive sponsor leaves",
    level: "Director CS + AE",
    responseHours: 48,
    urgency: "high",
    detectedBy: null,
    brief: "Executive sponsor left",
    recommendedAction: "Director CS and AE to identify and engage a new sponsor",
  },
  {
    id: "critical_bug",
    trigger: "Critical bug affecting customer",
    level: "VP Engineering + VP CS",
    responseHours: 4,
    urgency: "critical",
    detectedBy:
      "an open support ticket in a category group of alerting.criticalBug.categories with a severity in alerting.criticalBug.priorities",
    brief: "Critical bug affecting the customer",
    recommendedAction: "VP Engineering and VP CS to confirm an owner and a fix ETA within 4 hours; update the customer",
  },
  {
    id: "competitor_evaluation",
    trigger: "Customer mentions competitor evaluation",
    level: "VP CS + VP Sales",
    responseHours: 24,
    urgency: "high",
    detectedBy: null,
    brief: "Customer evaluating a competitor",
    recommendedAction: "VP CS and VP Sales to prepare a competitive displacement defence",
  },
  {
    id: "renewal_at_risk",
    trigger: "Renewal at risk (60 days or less)",
    level: "CRO/VP Sales",
    responseHours: 24,
    urgency: "tier",
    detectedBy: "days_to_renewal ≤ 60 and risk tier High or Critical",
    brief: "Renewal at risk",
    recommendedAction: "CRO/VP Sales to own the renewal: present the proposal, address concerns and escalate blockers",
  },
  {
    id: "legal_threat",
    trigger: "Customer threatens legal action",
    level: "Legal + VP CS",
    responseHours: 0,
    urgency: "critical",
    detectedBy: null,
    brief: "Customer threatens legal action",
    recommendedAction: "Involve Legal and VP CS immediately",
  },
];

/**
 * The playbooks' "Escalation Communication Template". Placeholders in braces are filled by
 * marts.mart_escalations (one message per firing trigger); the set of placeholders is fixed:
 * customer_name, brief_description, segment (the plan tier), arr, health_score,
 * classification (Red/Yellow/Green), renewal_date, issue_summary, warning_signals,
 * recommended_action, urgency.
 */
export const escalationTemplate = {
  subject: "[ESCALATION] {customer_name} -- {brief_description}",
  body: [
    "- Customer: {customer_name}, {segment}, ${arr}",
    "- Health Score: {health_score} ({classification})",
    "- Renewal Date: {renewal_date}",
    "- Issue Summary: {issue_summary}",
    "- Warning Signals: {warning_signals}",
    "- Recommended Action: {recommended_action}",
    "- Urgency: {urgency}",
  ].join("\n"),
} as const;

/**
 * What raises a CTA and which playbook step it points to. Risk CTAs follow the
 * tier's playbook and move to the step that matches their age; the others point at the step
 * of the playbooks that answers the signal.
 */
export const ctaRules: readonly CtaRule[] = [
  {
    type: "risk",
    reason: "risk_tier_critical",
    label: "Risk tier Critical",
    playbook: "critical_risk",
    stepId: null,
    minPriority: "critical",
  },
  {
    type: "risk",
    reason: "risk_tier_high",
    label: "Risk tier High",
    playbook: "high_risk",
    stepId: null,
    minPriority: "high",
  },
  {
    type: "onboarding",
    reason: "onboarding_at_risk",
    label: "Onboarding at risk: activation gate missed",
    playbook: "onboarding",
    stepId: "activation",
    minPriority: "high",
  },
  {
    type: "support",
    reason: "support_overload",
    label: "Support overload: many high-priority tickets",
    playbook: "high_risk",
    stepId: "support_fast_track",
    minPriority: "high",
  },
  {
    type: "engagement",
    reason: "low_events",
    label: "Low product engagement (30 days)",
    playbook: "medium_risk",
    stepId: "proactive_check_in",
    minPriority: "medium",
  },
  {
    type: "renewal",
    reason: "renewal_120d",
    label: "Renewal in 120 days or less",
    playbook: "renewal",
    stepId: "renewal_120d",
    minPriority: "low",
  },
  {
    type: "renewal",
    reason: "renewal_90d",
    label: "Renewal in 90 days or less",
    playbook: "renewal",
    stepId: "renewal_90d",
    minPriority: "medium",
  },
  {
    type: "renewal",
    reason: "renewal_60d",
    label: "Renewal in 60 days or less",
    playbook: "renewal",
    stepId: "renewal_60d",
    minPriority: "high",
  },
  {
    type: "renewal",
    reason: "renewal_30d",
    label: "Renewal in 30 days or less",
    playbook: "renewal",
    stepId: "renewal_30d",
    minPriority: "high",
  },
  {
    type: "renewal",
    reason: "renewal_post",
    label: "Renewed: post-renewal follow-up",
    playbook: "renewal",
    stepId: "renewal_post",
    minPriority: "low",
  },
];

export const ctas = {
  /** due date of a low-priority CTA (the Low tier's "standard cadence" has no act-within window) */
  lowPriorityDueDays: 30,
} as const;

/**
 * Holdouts and measured effectiveness: does working a playbook's CTAs prevent churn? A share of
 * each playbook's newly raised CTAs is held out — drawn at raise, recorded, never shown to a
 * CSM — and once the churn horizon has passed, the churn of worked CTAs is compared with the
 * held-out ones (marts.mart_playbook_effectiveness). Every CS platform reports whether plays
 * were done; only a holdout says whether they worked.
 */
export const measurement = {
  /**
   * share of a playbook's new CTAs held out, drawn within each play tier × plan tier so both arms
   * hold the same mix. Critical accounts always get their play (0). A tenth costs a tenth of the
   * play's saves and gives ~100 matured holdouts a year on a few thousand at-risk CTAs.
   */
  holdoutShare: {
    critical_risk: 0,
    high_risk: 0.1,
    medium_risk: 0.1,
    low_risk: 0,
    onboarding: 0.1,
    renewal: 0.1,
  } satisfies Record<string, number>,
  /** below this many matured CTAs in either arm (worked, held out) a figure is "not enough data yet" */
  minPerArm: 100,
  /** confidence level of the measured intervals */
  intervalLevel: 0.9,
} as const;

/** The holdout share of a playbook (0 when the playbook has none configured). */
export function holdoutShareOf(m: Playbooks["measurement"], playbookId: string): number {
  return (m.holdoutShare as Readonly<Record<string, number>>)[playbookId] ?? 0;
}

/** Churn alerts to webhooks and how they are delivered. */
export const alerting = {
  /** tiers whose entry raises an alert (compared with the previous build) */
  alertTiers: ["Critical", "High"] as readonly RiskTier[],
  /** an alert when the health score fell by at least this many points since the previous build */
  healthDropPoints: 15,
  /** "renewal at risk": renewal within this many days while in an alert tier (escalation matrix) */
  renewalAtRiskDays: 60,
  /**
   * what counts as a critical bug for the escalation matrix: category groups and severities
   * (meanings of src/rules/vocabulary.ts, whatever the help desk calls them)
   */
  criticalBug: {
    categories: ["bug", "outage"] as readonly Meaning<"ticketCategories">[],
    priorities: ["urgent"] as readonly Meaning<"ticketPriorities">[],
  },
  delivery: {
    /** a delivery is dead-lettered after this many failed attempts */
    maxAttempts: 8,
    /** exponential backoff: base × 2^(attempt−1), capped, with ±50 % jitter */
    backoffBaseMs: 2_000,
    backoffMaxMs: 15 * 60_000,
    /** a target that does not answer within this time counts as failed */
    requestTimeoutMs: 10_000,
    /** deliveries in flight per target */
    concurrency: 8,
    /** longest 429 Retry-After honoured; longer values are clamped to it */
    maxRetryAfterMs: 60 * 60_000,
    /** `npm run alerts` stops after this long and leaves what is not yet due for the next run */
    drainDeadlineMs: 5 * 60_000,
    /** delivered ids are remembered this long so re-enqueuing the same alert is a no-op */
    deliveredRetentionDays: 90,
  },
  /** receivers reject signatures older (or newer) than this (Standard Webhooks recommends 5 minutes) */
  signatureToleranceSeconds: 300,
} as const;

export const playbooks = {
  riskPlaybooks,
  onboarding,
  renewal,
  expansionSignals,
  expansionConversation,
  escalationMatrix,
  escalationTemplate,
  ctaRules,
  ctas,
  measurement,
  alerting,
} as const;

export type Playbooks = typeof playbooks;

/** Fills {placeholders}; an unknown placeholder is an error, so a template typo fails the build. */
export function renderTemplate(template: string, fields: Readonly<Record<string, string | number | null>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    if (!(name in fields)) throw new Error(`escalation template: unknown placeholder {${name}}`);
    const v = fields[name];
    return v === null || v === undefined ? "n/a" : String(v);
  });
}

/** The priority whose act-within window applies to a tier (Critical → critical …). */
export function priorityOfTier(tier: RiskTier): Priority {
  return tier.toLowerCase() as Priority;
}

/** The parts of config.ts the playbooks must agree with. */
export interface PlaybookRules {
  riskTiers: readonly {tier: RiskTier}[];
}

/** Invariants a hand edit must keep; validateConfig() in config.ts calls it: `validatePlaybooks(c.playbooks, c)`. */
export function validatePlaybooks(p: Playbooks, config: PlaybookRules): string[] {
  const problems: string[] = [];
  const playbookSteps = new Map<string, Set<string>>([
    ...p.riskPlaybooks.map((r) => [r.id, new Set(r.steps.map((s) => s.id))] as const),
    [p.onboarding.id, new Set(p.onboarding.phases.map((ph) => ph.id))],
    [p.renewal.id, new Set(p.renewal.stages.map((s) => s.id))],
  ]);
  const keys = new Set<string>();
  p.ctaRules.forEach((r, i) => {
    const steps = playbookSteps.get(r.playbook);
    if (!steps) problems.push(`playbooks.ctaRules[${i}].playbook: unknown playbook "${r.playbook}"`);
    else if (r.stepId !== null && !steps.has(r.stepId))
      problems.push(`playbooks.ctaRules[${i}].stepId: "${r.stepId}" is not a step of ${r.playbook}`);
    if (keys.has(`${r.type}|${r.reason}`))
      problems.push(`playbooks.ctaRules[${i}]: duplicate type+reason ${r.type}/${r.reason}`);
    keys.add(`${r.type}|${r.reason}`);
  });
  for (const r of p.riskPlaybooks) {
    r.steps.forEach((s, i) => {
      if (s.endDay !== null && s.endDay < s.startDay)
        problems.push(`playbooks.riskPlaybooks.${r.id}.steps[${i}]: endDay before startDay`);
    });
  }
  const m = p.measurement;
  for (const [id, share] of Object.entries(m.holdoutShare)) {
    if (!playbookSteps.has(id)) problems.push(`playbooks.measurement.holdoutShare.${id}: unknown playbook`);
    if (!(share >= 0 && share < 1))
      problems.push(`playbooks.measurement.holdoutShare.${id}: must be a share in [0, 1) (got ${share})`);
  }
  if (!(Number.isInteger(m.minPerArm) && m.minPerArm >= 1))
    problems.push(`playbooks.measurement.minPerArm: must be a whole number ≥ 1 (got ${m.minPerArm})`);
  if (!(m.intervalLevel > 0.5 && m.intervalLevel < 1))
    problems.push(`playbooks.measurement.intervalLevel: must be between 0.5 and 1 (got ${m.intervalLevel})`);
  const d = p.alerting.delivery;
  if (!(Number.isInteger(d.maxAttempts) && d.maxAttempts >= 1))
    problems.push("playbooks.alerting.delivery.maxAttempts: must be an integer ≥ 1");
  if (!(d.backoffBaseMs > 0 && d.backoffMaxMs >= d.backoffBaseMs))
    problems.push("playbooks.alerting.delivery: need 0 < backoffBaseMs ≤ backoffMaxMs");
  if (!(p.alerting.healthDropPoints > 0)) problems.push("playbooks.alerting.healthDropPoints: must be > 0");
  for (const t of p.alerting.alertTiers)
    if (!config.riskTiers.some((b) => b.tier === t)) problems.push(`playbooks.alerting.alertTiers: unknown tier ${t}`);
  // every template placeholder must be one mart_escalations fills
  const known = new Set([
    "customer_name",
    "brief_description",
    "segment",
    "arr",
    "health_score",
    "classification",
    "renewal_date",
    "issue_summary",
    "warning_signals",
    "recommended_action",
    "urgency",
  ]);
  for (const m of `${p.escalationTemplate.subject}\n${p.escalationTemplate.body}`.matchAll(/\{([a-z_]+)\}/g))
    if (!known.has(m[1]!)) problems.push(`playbooks.escalationTemplate: unknown placeholder {${m[1]}}`);
  return problems;
}
