package webhook

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestExampleUsesOnlyTheStandardLibrary protects the example's purpose: a company copies
// examples/webhook-tool into its own repository, so it may import nothing but the standard
// library and its own tool package (never offboard's internal packages).
func TestExampleUsesOnlyTheStandardLibrary(t *testing.T) {
	t.Parallel()
	const own = "github.com/offboard-dev/offboard/examples/webhook-tool/tool"
	root := filepath.Join("..", "..", "..", "examples", "webhook-tool")
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if p != own && strings.Contains(first, ".") {
				t.Errorf("%s imports %s; the example must use only the standard library", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Fatalf("found %d Go files under %s; has the example moved?", files, root)
	}
}
