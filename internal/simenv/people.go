package simenv

// Person is one seeded employee of the demo company, with their identity in each simulated
// system.
type Person struct {
	WorkerID   string            `json:"worker_id"`
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Manager    string            `json:"manager"`
	Title      string            `json:"title"`
	Identities map[string]string `json:"identities"`
}

// The demo company's people. Dana is the one the demo terminates: an engineer with the
// typical spread of access (sessions, OAuth grants, two MFA factors, an admin role, many
// groups including a rule-managed one, an app-imported one and Everyone).
var people = []Person{
	{WorkerID: "W1001", Email: "dana.whitfield@acme.example", Name: "Dana Whitfield", Manager: "priya.raman@acme.example", Title: "Staff Engineer"},
	{WorkerID: "W1002", Email: "sam.ortiz@acme.example", Name: "Sam Ortiz", Manager: "priya.raman@acme.example", Title: "IT Administrator"},
	{WorkerID: "W1003", Email: "priya.raman@acme.example", Name: "Priya Raman", Manager: "", Title: "VP Engineering"},
	{WorkerID: "W1004", Email: "lee.park@acme.example", Name: "Lee Park", Manager: "priya.raman@acme.example", Title: "Contractor, Data"},
	{WorkerID: "W1005", Email: "alex.kim@acme.example", Name: "Alex Kim", Manager: "priya.raman@acme.example", Title: "Support Engineer"},
}

// DemoLeaver is the worker ID the demo terminates.
const DemoLeaver = "W1001"

// identities are the people's handles in systems where they are not the work email. The
// Workday report carries them all, but the demo configuration maps only Docker Hub's and
// Jenkins' columns: GitHub logins are found through the organization's SAML identities, and
// IAM users through their email tag (Dana's user name, dwhitfield, is not her email's local
// part, so only the tag finds it).
var identities = map[string]map[string]string{
	"W1001": {"github": "dana-w", "aws": "dwhitfield", "dockerhub": "danaw", "jenkins": "dana.whitfield"},
	"W1002": {"github": "sortiz", "aws": "sam.ortiz", "jenkins": "sam.ortiz"},
	"W1003": {"github": "priya-r", "aws": "priya", "dockerhub": "priya-r", "jenkins": "priya.raman"},
	"W1004": {"github": "leepark-data", "dockerhub": "leepark-data"},
}
