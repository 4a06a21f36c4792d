package simenv

import (
	"time"

	"github.com/offboard-dev/offboard/internal/connector/aws/awssim"
	"github.com/offboard-dev/offboard/internal/connector/dockerhub/dockerhubsim"
	"github.com/offboard-dev/offboard/internal/connector/github/githubsim"
	"github.com/offboard-dev/offboard/internal/connector/jenkins/jenkinssim"
)

// seedDev gives the demo company's developers their direct credentials: GitHub membership
// and authorized credentials, IAM users, Docker Hub membership and invitations, Jenkins
// accounts with API tokens.
func (e *Env) seedDev() {
	e.seedGitHub()
	e.seedAWS()
	for _, p := range e.people {
		if id := p.Identities["dockerhub"]; id != "" {
			role := dockerhubsim.RoleMember
			if p.WorkerID == "W1003" {
				role = dockerhubsim.RoleOwner
			}
			must(e.DockerHub.AddMember(dockerhubsim.Member{Username: id, Email: p.Email, FullName: p.Name, Role: role, Teams: dockerTeams[p.WorkerID]}))
		}
		if id := p.Identities["jenkins"]; id != "" {
			must(e.Jenkins.AddUser(jenkinssim.User{ID: id, FullName: p.Name, Email: p.Email}))
		}
	}
	// Dana was also invited to the release team, and holds two
	// Jenkins API tokens (one from a script, one from her IDE).
	_, err := e.DockerHub.AddInvite(dockerhubsim.Invite{Invitee: "danaw", Team: "release", Inviter: "priya-r"})
	must(err)
	must(e.Jenkins.AddToken("dana.whitfield", jenkinssim.Token{Name: "deploy-script", Value: "11aa22bb33cc44dd55ee66ff77889900aa"}))
	must(e.Jenkins.AddToken("dana.whitfield", jenkinssim.Token{Name: "intellij", Value: "99ff88ee77dd66cc55bb44aa3322110011"}))
}

// dockerTeams are the Docker Hub teams per worker.
var dockerTeams = map[string][]string{
	"W1001": {"developers", "release"},
	"W1003": {"owners"},
}

// seedGitHub gives the demo organization members, repositories with Actions secrets, SAML
// identities and credential authorizations. Dana has no github handle in the HR record: she
// is found through her SAML identity, and she administers the payments repository, whose
// secrets the ticket lists for rotation.
func (e *Env) seedGitHub() {
	g := e.GitHub
	for _, p := range e.people {
		login, w := p.Identities["github"], p.WorkerID
		if login == "" {
			continue
		}
		must(g.AddUser(githubsim.User{Login: login, Email: p.Email}))
		switch w {
		case "W1003":
			must(g.AddMember(login, githubsim.RoleOwner))
		case "W1004":
			// A contractor: an outside collaborator on one repository, not a member.
		default:
			must(g.AddMember(login, githubsim.RoleMember))
		}
		must(g.AddIdentity(githubsim.Identity{Login: login, NameID: p.Email, Emails: []string{p.Email}}))
	}
	must(g.AddRepo(githubsim.Repo{Name: "payments", Secrets: []string{"AWS_SECRET_ACCESS_KEY", "STRIPE_API_KEY"}}))
	must(g.AddRepo(githubsim.Repo{Name: "web", Secrets: []string{"NPM_TOKEN"}}))
	must(g.AddRepo(githubsim.Repo{Name: "data-pipelines", Secrets: []string{"WAREHOUSE_PASSWORD"}}))
	must(g.AddOrgSecret("ORG_DEPLOY_KEY"))
	must(g.AddCollaborator("payments", "dana-w", "admin"))
	must(g.AddCollaborator("web", "dana-w", "write"))
	must(g.AddCollaborator("data-pipelines", "leepark-data", "write"))
	_, err := g.AddCredential(githubsim.Credential{Login: "dana-w", Type: githubsim.CredentialPAT, TokenLastEight: "9f3ac1d2", Title: "laptop CLI", Scopes: []string{"repo", "read:org"}})
	must(err)
	_, err = g.AddCredential(githubsim.Credential{Login: "dana-w", Type: githubsim.CredentialSSHKey, Fingerprint: "SHA256:kq3Yh0e9cQ5N4rC6fW1uT2bX8pL7mZ0aD5sV3gJ9nE4", Title: "work laptop"})
	must(err)
}

// seedAWS gives the demo account IAM users tagged with their owners' email. Dana's user holds
// everything offboarding must take away, including a console session signed in forty
// minutes ago, which IAM can neither list nor revoke: only the deny policy ends it.
func (e *Env) seedAWS() {
	a := e.AWS
	must(a.AddGroup("developers", "/"))
	must(a.AddGroup("oncall", "/"))
	must(a.AddGroup("admins", "/"))
	for _, p := range e.people {
		name := p.Identities["aws"]
		if name == "" {
			continue
		}
		must(a.AddUser(awssim.User{Name: name, Path: "/people/", Tags: []awssim.Tag{{Key: "email", Value: p.Email}, {Key: "team", Value: p.Title}}}))
		must(a.AddLoginProfile(name))
		_, err := a.AddMFADevice(name, awssim.MFADevice{Virtual: true})
		must(err)
	}
	must(a.AddToGroup("sam.ortiz", "admins"))
	must(a.AddToGroup("priya", "developers"))
	const dana = "dwhitfield"
	must(a.AddAccessKey(dana, awssim.AccessKey{ID: "AKIADANAWCLI00000001", LastUsed: time.Now().Add(-2 * time.Hour), LastService: "s3", LastRegion: "eu-west-1"}))
	must(a.AddAccessKey(dana, awssim.AccessKey{ID: "AKIADANAWOLD00000002", Status: "Inactive"}))
	must(a.AddSSHKey(dana, awssim.Credential{ID: "APKADANAWSSH00000001"}))
	must(a.AddServiceCredential(dana, awssim.Credential{ID: "ACCADANAWCC000000001"}))
	must(a.AddToGroup(dana, "developers"))
	must(a.AddToGroup(dana, "oncall"))
	must(a.AttachPolicy(dana, "arn:aws:iam::aws:policy/ReadOnlyAccess"))
	must(a.AttachPolicy(dana, "arn:aws:iam::"+awssim.DefaultAccountID+":policy/payments-deploy"))
	must(a.PutInlinePolicy(dana, "scratch-bucket", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::acme-scratch-dana","arn:aws:s3:::acme-scratch-dana/*"]}]}`))
	must(a.AddSession(dana, awssim.Session{ID: "console-dwhitfield", IssuedAt: time.Now().Add(-40 * time.Minute)}))
}
