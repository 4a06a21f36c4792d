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

  # Each system below is optional; docs/connectors/<name>.md lists the permissions each
  # needs, every action it takes and what only a person can do.
  github:
    base_url: https://api.github.com   # default; GitHub Enterprise Server: https://HOST/api/v3
    org: acme
    token: ${GITHUB_TOKEN}
    # token_file: /run/secrets/github-token

  aws:
    region: us-east-1                  # default
    # Static credentials; omit both to use the SDK's default chain (environment, shared
    # config, instance or task role).
    access_key_id: ${AWS_ACCESS_KEY_ID}
    secret_access_key: ${AWS_SECRET_ACCESS_KEY}
    # secret_access_key_file: /run/secrets/aws-secret-key
    # session_token: ${AWS_SESSION_TOKEN}
    # session_token_file: /run/secrets/aws-session-token
    # endpoint: https://iam.amazonaws.com
    # The IAM user tag holding the person's email; else the user name is derived
    # (user_name: email_local, the default, email, or handle: only the HR record's aws
    # handle is trusted).
    match_tag: email
    # user_name: email_local
    # Delete the user once everything is removed (default false: keep it, tagged
    # offboarded-at, for inspection and restore).
    # delete_user: false

  dockerhub:
    # base_url: https://hub.docker.com
    org: acme
    # username: acme                  # default: the org
    token: ${DOCKERHUB_ORG_TOKEN}
    # token_file: /run/secrets/dockerhub-token

  jenkins:
    base_url: https://ci.acme.com
    username: offboard-bot
    api_token: ${JENKINS_API_TOKEN}
    # api_token_file: /run/secrets/jenkins-token
    mode: disable                      # or delete

  # Any SCIM 2.0 application; each entry is its own system, named as given.
  scim:
    - name: zoom
      base_url: https://api.zoom.us/scim2
      token: ${ZOOM_SCIM_TOKEN}
      # token_file: /run/secrets/zoom-scim-token
      user_filter: 'userName eq "{email}"'   # default; also {worker_id}, {handle}
      deprovision: deactivate                # or delete

  google:
    # The service account's key (domain-wide delegation) and the admin it acts as.
    credentials_json: ${GOOGLE_SA_JSON}
    # credentials_json_file: /run/secrets/google-sa.json
    admin_email: it-admin@acme.com
    customer: my_customer              # default
    # base_url: https://admin.googleapis.com
    # token_url: https://oauth2.googleapis.com/token
    # Where Drive and Calendar data go before suspension: manager (default) or none.
    transfer: manager

  entra:
    tenant_id: 2f1a6c1e-0000-4000-8000-000000000001
    client_id: 7c3b2d4e-0000-4000-8000-000000000002
    client_secret: ${ENTRA_CLIENT_SECRET}
    # client_secret_file: /run/secrets/entra-secret
    # base_url: https://graph.microsoft.com/v1.0
    # token_url: https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token

  slack:
    # base_url: https://slack.com/api
    # scim_url: https://api.slack.com/scim/v2
    token: ${SLACK_ADMIN_TOKEN}
    # token_file: /run/secrets/slack-token
    # Only when SCIM access sits in another Slack app (default: token):
    # scim_token: ${SLACK_SCIM_TOKEN}
    # scim_token_file: /run/secrets/slack-scim-token
    enterprise_grid: true              # session reset needs Enterprise Grid

  # The company's own tools, over offboard's signed webhook protocol
  # (docs/connectors/webhook.md); each entry is its own system.
  webhook:
    - name: billing-admin
      url: https://billing-admin.internal.acme.com/offboard
      secret: ${BILLING_ADMIN_WEBHOOK_SECRET}
      # secret_file: /run/secrets/billing-admin-webhook
      timeout: 30s                     # default

  ldap:
    url: ldaps://ldap.acme.com:636
    # start_tls: false                 # for ldap:// URLs
    # ca_file: /etc/ssl/acme-ca.pem
    bind_dn: cn=offboard,ou=service,dc=acme,dc=com
    bind_password: ${LDAP_BIND_PASSWORD}
    # bind_password_file: /run/secrets/ldap-password
    base_dn: ou=people,dc=acme,dc=com
    flavor: openldap                   # or ad
    # user_filter: (|(mail={email})(uid={uid}))
    # group_base_dn: ou=groups,dc=acme,dc=com
    # OpenLDAP: lock with the ppolicy overlay, or move the entry to disabled_ou.
    disable_attribute: pwdAccountLockedTime
    disable_value: 000001010000Z
    # disabled_ou: ou=disabled,dc=acme,dc=com

  # Database servers whose login roles are locked; each entry is its own system.
  postgres:
    - name: payments-db
      dsn: ${PAYMENTS_DB_DSN}
      # dsn_file: /run/secrets/payments-db-dsn
      role: email_local                # default; or email, handle
  mysql:
    - name: analytics-db
      dsn: ${ANALYTICS_DB_DSN}
      # dsn_file: /run/secrets/analytics-db-dsn
      role: email_local

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
      # Columns holding identities that are not the work email, per system.
      handles:
        github: GitHub_Username
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
