package config

// Example returns a complete, commented configuration showing every setting. It parses as is
// once the environment variables it names are set.
func Example() string { return example }

const example = `# offboard configuration. Strict: an unknown key or a wrong type is an error, and every
# problem is reported at once with its path.
#
# Any value may use ${NAME} for an environment variable (write $${ for a literal ${).
# Every secret setting x has a twin x_file naming a file that holds the secret (one trailing
# newline is removed; a relative path is relative to this file). Set one of the two.
#
# URLs may use http for the simulators; use https for real systems.

# Where cases, steps, HR events and the audit log live. Default: sqlite://offboard.db
# (a relative path is relative to the working directory). For several replicas use
# PostgreSQL: postgres://offboard@db.internal:5432/offboard (a password is better given as
# PGPASSWORD than in the URL).
store: sqlite://offboard.db

# The systems access is removed from. At least one.
connectors:
  okta:
    base_url: https://acme.okta.com
    # An API token, sent as "Authorization: SSWS <token>".
    token: ${OKTA_API_TOKEN}
    # token_file: /run/secrets/okta-token
    # Requests in flight at once (optional; Okta allows 75 per org, shared with every
    # other integration).
    concurrency: 16

# The deprovisioning ticket.
ticket:
  jira:
    base_url: https://acme.atlassian.net
    # The bot account; its API token is sent as HTTP Basic email:token.
    email: secops-bot@acme.com
    token: ${JIRA_API_TOKEN}
    # token_file: /run/secrets/jira-token
    project: SEC
    issue_type: Task          # default Task
    # Taken only when every step is verified. Default Done.
    done_transition: Done

# Where terminations come from.
hr:
  # Polls a Workday custom report (RaaS) listing terminations.
  workday:
    report_url: https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU_offboard/Terminations?format=json
    # The Integration System User (HTTP Basic).
    username: ISU_offboard
    password: ${WORKDAY_PASSWORD}
    # password_file: /run/secrets/workday-password
    # Default 5m; at least 10s, as every poll reads the whole report.
    poll_interval: 5m
    # IANA zone of report dates without an offset. Default UTC.
    time_zone: America/New_York
    # The report's column names. worker_id and termination_date are required; the others
    # default to the names shown.
    fields:
      worker_id: Employee_ID
      email: Work_Email
      name: Worker
      manager_email: Manager_Email
      termination_date: Termination_Date
      involuntary: Involuntary
      rescinded: Is_Rescinded
      reason: Termination_Reason
  # The signed HR webhook, POST /v1/hr/events (HMAC-SHA256; at least 16 characters, e.g.
  # openssl rand -hex 32).
  webhook:
    secret: ${OFFBOARD_WEBHOOK_SECRET}
    # secret_file: /run/secrets/webhook-secret
    # Also accepted while senders move to a new secret:
    # previous_secret: ${OFFBOARD_WEBHOOK_PREVIOUS_SECRET}
    # previous_secret_file: /run/secrets/webhook-previous-secret

# The HTTP API and UI.
server:
  listen: 127.0.0.1:8080      # default 127.0.0.1:8080
  # When set, /v1/cases* require "Authorization: Bearer <token>". Required when listen is
  # reachable from other machines (not a loopback address). At least 16 characters.
  api_token: ${OFFBOARD_API_TOKEN}
  # api_token_file: /run/secrets/offboard-api-token
`
