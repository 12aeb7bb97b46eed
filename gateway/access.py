"""Who may call what: the one table from every RPC to the roles allowed to call it.

Keys are "<package>.<Service>/<Method>". `INTERNAL` methods are for services only (outbox
consumers): the gateway does not expose them at all (HTTP 404, gRPC UNIMPLEMENTED). A method that
exists in a proto but not here is not exposed either, and tests/gateway/test_access.py fails.

Object-level rules (a Sales, GBS or Legal user sees only their team's escalations and the cases
behind them) are enforced by the services from the signed identity; see common/team_scope.py.
"""

from __future__ import annotations

COLLECTOR = "collector"
SPECIALIST = "specialist"
TEAM_LEAD = "team_lead"
SALES = "sales"
GBS = "gbs"
LEGAL = "legal"
SRE = "sre"  # read-only, plus SLA and trace views, and the services' outboxes
ADMIN = "admin"  # code lists, policies, calendars, routing rules
FINANCE_MANAGER = "finance_manager"  # approves write-offs above a team lead's limit
ROLES = (COLLECTOR, SPECIALIST, TEAM_LEAD, SALES, GBS, LEGAL, SRE, ADMIN, FINANCE_MANAGER)

INTERNAL = "internal"

EVERYONE = ROLES  # reads; team roles are scoped to their team by the services
CASE_WORKERS = (COLLECTOR, SPECIALIST, TEAM_LEAD)  # work disputes, escalate them
RECEIVING_TEAMS = (SALES, GBS, LEGAL, TEAM_LEAD)  # answer escalations
MASTER_DATA = (*CASE_WORKERS, GBS)
BILLING = (SPECIALIST, TEAM_LEAD, GBS)  # invoices, payments, credit notes, cash application
CASE_PARTIES = (*CASE_WORKERS, SALES, GBS, LEGAL)  # a case escalated to a team: notes, evidence
CONFIGURATION = (ADMIN,)  # code lists, SLA policies, calendars
ROUTING = (TEAM_LEAD, ADMIN)
OPERATIONS = (SRE, ADMIN)  # the services' outboxes: list, retry or discard parked events
WRITE_OFF_PARTIES = (*CASE_WORKERS, GBS, FINANCE_MANAGER)  # request, post; never self-approve
APPROVERS = (TEAM_LEAD, FINANCE_MANAGER)  # limits per role and currency are data (accounts)

_ACCOUNTS = "settle.accounts.v1.AccountsService/"
_DISPUTES = "settle.disputes.v1.DisputesService/"
_ESCALATION = "settle.escalation.v1.EscalationService/"

ACCESS: dict[str, tuple[str, ...] | str] = {
    _ACCOUNTS + "CreateCustomer": MASTER_DATA,
    _ACCOUNTS + "GetCustomer": EVERYONE,
    _ACCOUNTS + "ListCustomers": EVERYONE,
    _ACCOUNTS + "UpdateCustomer": MASTER_DATA,
    _ACCOUNTS + "CreateBillingAccount": MASTER_DATA,
    _ACCOUNTS + "ListBillingAccounts": EVERYONE,
    _ACCOUNTS + "GetCustomerBalance": EVERYONE,
    _ACCOUNTS + "CreateInvoice": BILLING,
    _ACCOUNTS + "GetInvoice": EVERYONE,
    _ACCOUNTS + "ListInvoices": EVERYONE,
    _ACCOUNTS + "ListHoldMovements": EVERYONE,
    _ACCOUNTS + "ListLedgerPostings": EVERYONE,
    _ACCOUNTS + "CreatePayment": BILLING,
    _ACCOUNTS + "ListPayments": EVERYONE,
    _ACCOUNTS + "CreateCreditNote": BILLING,
    _ACCOUNTS + "ListCreditNotes": EVERYONE,
    _ACCOUNTS + "AllocateFunds": BILLING,
    _ACCOUNTS + "ReverseAllocation": BILLING,  # takes a payment's or credit's allocation back
    _ACCOUNTS + "PlaceHold": INTERNAL,  # disputes' outbox
    _ACCOUNTS + "ReleaseHold": INTERNAL,  # disputes' outbox
    _ACCOUNTS + "PostDisputeAdjustment": INTERNAL,  # disputes' outbox
    _ACCOUNTS + "GetAgingReport": EVERYONE,
    _ACCOUNTS + "ImportOpenItems": (TEAM_LEAD, GBS),
    # The collector's day: collectors for their customers, team leads for their team (the
    # service checks the assignment).
    _ACCOUNTS + "ListOutcomeCodes": EVERYONE,
    _ACCOUNTS + "CreateOutcomeCode": CONFIGURATION,
    _ACCOUNTS + "DeactivateOutcomeCode": CONFIGURATION,
    _ACCOUNTS + "LogInteraction": CASE_WORKERS,
    _ACCOUNTS + "ListCustomerTimeline": EVERYONE,
    _ACCOUNTS + "CreatePromise": CASE_WORKERS,
    _ACCOUNTS + "GetPromise": EVERYONE,
    _ACCOUNTS + "ListPromises": EVERYONE,
    _ACCOUNTS + "WithdrawPromise": CASE_WORKERS,
    _ACCOUNTS + "CancelPromise": CASE_WORKERS,
    _ACCOUNTS + "GetPromiseRecord": EVERYONE,
    _ACCOUNTS + "ListWorklist": (COLLECTOR, TEAM_LEAD),
    _ACCOUNTS + "SimulateStrategy": (TEAM_LEAD, ADMIN),
    _ACCOUNTS + "ExplainWorklistAbsence": (COLLECTOR, TEAM_LEAD),
    _ACCOUNTS + "CreateWorklistStrategy": (TEAM_LEAD, ADMIN),
    _ACCOUNTS + "GetWorklistStrategy": EVERYONE,
    _ACCOUNTS + "BulkReassignCustomers": (TEAM_LEAD,),
    # Dunning, write-off with four eyes (the service refuses the requester), Legal (a Legal
    # user sees only the accounts handed over to Legal: the service checks).
    _ACCOUNTS + "RunDunning": (TEAM_LEAD, ADMIN),
    _ACCOUNTS + "ListNotices": (*CASE_WORKERS, LEGAL, SRE),
    _ACCOUNTS + "GetNoticeDocument": (*CASE_WORKERS, LEGAL),
    _ACCOUNTS + "RetryNotice": CASE_WORKERS,  # collectors for their customers (service checks)
    _ACCOUNTS + "GetStatement": (*CASE_WORKERS, GBS, LEGAL),
    _ACCOUNTS + "ListWriteOffReasons": EVERYONE,
    _ACCOUNTS + "CreateWriteOff": WRITE_OFF_PARTIES,
    _ACCOUNTS + "GetWriteOff": (*WRITE_OFF_PARTIES, SRE),
    _ACCOUNTS + "ListWriteOffs": (*WRITE_OFF_PARTIES, SRE),
    _ACCOUNTS + "SubmitWriteOff": WRITE_OFF_PARTIES,
    _ACCOUNTS + "ApproveWriteOff": APPROVERS,
    _ACCOUNTS + "RejectWriteOff": APPROVERS,
    _ACCOUNTS + "CancelWriteOff": WRITE_OFF_PARTIES,
    _ACCOUNTS + "PostWriteOff": WRITE_OFF_PARTIES,
    _ACCOUNTS + "ReverseWriteOff": APPROVERS,
    _ACCOUNTS + "GetLegalCase": (LEGAL, TEAM_LEAD, COLLECTOR, SPECIALIST),
    _ACCOUNTS + "ListLegalCases": (LEGAL, TEAM_LEAD, COLLECTOR, SPECIALIST),
    _ACCOUNTS + "RecordLegalAnswer": (LEGAL,),
    # The dunning ladder is versioned data: team leads and admins store a new version.
    _ACCOUNTS + "CreateDunningLadderVersion": (TEAM_LEAD, ADMIN),
    _ACCOUNTS + "GetDunningLadderVersion": EVERYONE,
    _ACCOUNTS + "ListDunningLadderVersions": EVERYONE,
    _DISPUTES + "CreateDispute": CASE_WORKERS,
    _DISPUTES + "GetDispute": EVERYONE,
    _DISPUTES + "ListDisputes": EVERYONE,
    _DISPUTES + "UpdateDispute": CASE_WORKERS,
    _DISPUTES + "AssignDispute": CASE_WORKERS,
    _DISPUTES + "StartDispute": CASE_WORKERS,
    _DISPUTES + "PauseDispute": CASE_WORKERS,
    _DISPUTES + "ResumeDispute": CASE_WORKERS,
    _DISPUTES + "EscalateDispute": CASE_WORKERS,
    _DISPUTES + "ResolveDispute": CASE_WORKERS,
    _DISPUTES + "CloseDispute": CASE_WORKERS,
    _DISPUTES + "WithdrawDispute": CASE_WORKERS,
    _DISPUTES + "VoidDispute": CASE_WORKERS,
    _DISPUTES + "ReopenDispute": CASE_WORKERS,
    _DISPUTES + "AddNote": CASE_PARTIES,
    _DISPUTES + "AddEvidence": CASE_PARTIES,
    _DISPUTES + "ListDisputeHistory": EVERYONE,
    _DISPUTES + "GetDisputeTrace": (TEAM_LEAD, SRE, ADMIN),  # clocks and trace ids: SRE's view
    _DISPUTES + "ApplyEscalationAnswer": INTERNAL,  # escalation's outbox
    _DISPUTES + "RecordEscalation": INTERNAL,  # escalation's outbox
    _DISPUTES + "RecordEscalations": INTERNAL,  # escalation's outbox, many events per call
    _DISPUTES + "ListReasonCodes": EVERYONE,
    _DISPUTES + "CreateReasonCode": CONFIGURATION,
    _DISPUTES + "DeactivateReasonCode": CONFIGURATION,
    _DISPUTES + "ListRootCauses": EVERYONE,
    _DISPUTES + "CreateRootCause": CONFIGURATION,
    _DISPUTES + "DeactivateRootCause": CONFIGURATION,
    _DISPUTES + "ListSlaPolicies": EVERYONE,
    _DISPUTES + "GetSlaPolicy": EVERYONE,
    _DISPUTES + "CreateSlaPolicy": CONFIGURATION,
    _DISPUTES + "UpdateSlaPolicy": CONFIGURATION,
    _DISPUTES + "ListCalendars": EVERYONE,
    _DISPUTES + "GetCalendar": EVERYONE,
    _DISPUTES + "CreateCalendar": CONFIGURATION,
    _DISPUTES + "UpdateCalendar": CONFIGURATION,
    # Raised by rules through the outbox, and by people who escalate a case.
    _ESCALATION + "RaiseEscalation": CASE_WORKERS,
    _ESCALATION + "RaiseEscalations": INTERNAL,  # disputes' outbox, many events per call
    _ESCALATION + "GetEscalation": EVERYONE,
    _ESCALATION + "ListEscalations": EVERYONE,
    _ESCALATION + "ClaimEscalation": RECEIVING_TEAMS,
    _ESCALATION + "AssignEscalation": RECEIVING_TEAMS,
    _ESCALATION + "RequestEscalationInfo": RECEIVING_TEAMS,
    _ESCALATION + "ProvideEscalationInfo": CASE_WORKERS,
    _ESCALATION + "RespondToEscalation": RECEIVING_TEAMS,
    _ESCALATION + "HandBackEscalation": RECEIVING_TEAMS,
    _ESCALATION + "ResolveEscalation": RECEIVING_TEAMS,
    _ESCALATION + "ListEscalationHistory": EVERYONE,
    _ESCALATION + "WatchEscalations": EVERYONE,
    _ESCALATION + "ListRoutingRules": EVERYONE,
    _ESCALATION + "CreateRoutingRule": ROUTING,
    _ESCALATION + "UpdateRoutingRule": ROUTING,
    _ESCALATION + "CreateSubscription": (*RECEIVING_TEAMS, ADMIN),
    _ESCALATION + "ListSubscriptions": EVERYONE,
    _ESCALATION + "DeleteSubscription": (*RECEIVING_TEAMS, ADMIN),
    _ESCALATION + "ListDeliveries": EVERYONE,
    _ESCALATION + "RetryDelivery": (*RECEIVING_TEAMS, ADMIN),
    # Reports (docs/reports.md): everyone runs and schedules them; each run reads as its caller,
    # a schedule's as its creator (a collector's aging holds their customers, a team's escalation
    # report that team's escalations); a scheduled file is downloaded by its owner, a schedule
    # listed, deleted and its runs listed by its owner (or an admin).
    "settle.accounts.v1.AccountsReportsService/RunReport": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/ExportReport": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/CreateReportSchedule": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/DownloadReportArtefact": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/ListReportSchedules": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/DeleteReportSchedule": EVERYONE,
    "settle.accounts.v1.AccountsReportsService/ListReportRuns": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/RunReport": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/ExportReport": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/CreateReportSchedule": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/DownloadReportArtefact": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/ListReportSchedules": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/DeleteReportSchedule": EVERYONE,
    "settle.disputes.v1.DisputesReportsService/ListReportRuns": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/RunReport": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/ExportReport": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/CreateReportSchedule": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/DownloadReportArtefact": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/ListReportSchedules": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/DeleteReportSchedule": EVERYONE,
    "settle.escalation.v1.EscalationReportsService/ListReportRuns": EVERYONE,
    # Each service's own outbox (common/outbox_admin_api.py).
    "settle.accounts.v1.AccountsOutboxService/ListOutboxEvents": OPERATIONS,
    "settle.accounts.v1.AccountsOutboxService/RetryOutboxEvent": OPERATIONS,
    "settle.accounts.v1.AccountsOutboxService/DiscardOutboxEvent": OPERATIONS,
    "settle.accounts.v1.AccountsOutboxService/ListOutboxActions": OPERATIONS,
    "settle.disputes.v1.DisputesOutboxService/ListOutboxEvents": OPERATIONS,
    "settle.disputes.v1.DisputesOutboxService/RetryOutboxEvent": OPERATIONS,
    "settle.disputes.v1.DisputesOutboxService/DiscardOutboxEvent": OPERATIONS,
    "settle.disputes.v1.DisputesOutboxService/ListOutboxActions": OPERATIONS,
    "settle.escalation.v1.EscalationOutboxService/ListOutboxEvents": OPERATIONS,
    "settle.escalation.v1.EscalationOutboxService/RetryOutboxEvent": OPERATIONS,
    "settle.escalation.v1.EscalationOutboxService/DiscardOutboxEvent": OPERATIONS,
    "settle.escalation.v1.EscalationOutboxService/ListOutboxActions": OPERATIONS,
}
