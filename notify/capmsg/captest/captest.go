// Package captest validates CAP 1.2 messages in tests against the
// official schema (../CAP-v1.2.xsd) with xmllint, Debian's libxml2-utils.
package captest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// SchemaPath returns the path of CAP-v1.2.xsd in the source tree.
func SchemaPath(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("captest: cannot find the schema's directory")
	}
	return filepath.Join(filepath.Dir(file), "..", "CAP-v1.2.xsd")
}

// Validate checks doc against CAP-v1.2.xsd with xmllint. Without xmllint
// the test is skipped, unless CI is set: there it fails
// (scripts/install-test-deps installs libxml2-utils).
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not found under CI: scripts/install-test-deps installs libxml2-utils")
		}
		t.Skip("xmllint not found: install libxml2-utils (scripts/install-test-deps)")
	}
	f := filepath.Join(t.TempDir(), "alert.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", SchemaPath(t), f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, doc)
	}
}
