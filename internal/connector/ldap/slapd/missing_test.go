package slapd

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// outcomeTB records how Start ended a test instead of ending the real one.
type outcomeTB struct {
	testing.TB
	skipped, failed string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Skipf(format string, args ...any) {
	o.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingSlapdSkipsUnlessRequired protects CI from a green build whose LDAP tests never
// ran: without slapd a developer's run skips with a message saying how to install it, and
// with OFFBOARD_REQUIRE_SLAPD=1 the test fails instead.
func TestMissingSlapdSkipsUnlessRequired(t *testing.T) {
	saved := slapdBinary
	slapdBinary = "/nonexistent/slapd"
	t.Cleanup(func() { slapdBinary = saved })
	for _, require := range []string{"", "1"} {
		t.Setenv(requireEnv, require)
		o := &outcomeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Start(o)
			o.failed = "Start returned a server without slapd"
		}()
		<-done
		switch {
		case require == "" && (o.skipped == "" || !strings.Contains(o.skipped, "apt-get install slapd")):
			t.Errorf("without %s: skipped %q failed %q, want a skip explaining the install", requireEnv, o.skipped, o.failed)
		case require == "1" && (o.failed == "" || !strings.Contains(o.failed, requireEnv)):
			t.Errorf("with %s=1: skipped %q failed %q, want a failure", requireEnv, o.skipped, o.failed)
		}
	}
}
