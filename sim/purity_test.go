package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestPurity keeps sim/ and raft/ deterministic by construction: no wall
// clock, no goroutines or channels, no global or stdlib random source, no
// maps (whose iteration order is random), no I/O.
func TestPurity(t *testing.T) {
	forbiddenImports := map[string]string{
		"math/rand": "the global random source", "math/rand/v2": "a stdlib random source",
		"os": "I/O", "net": "I/O", "io": "I/O", "sync": "concurrency", "unsafe": "unsafe",
	}
	forbiddenCalls := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"Tick": true, "NewTimer": true, "NewTicker": true, "AfterFunc": true}
	for _, dir := range []string{".", "../raft"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				if why, bad := forbiddenImports[p]; bad {
					t.Errorf("%s imports %s (%s)", path, p, why)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: a go statement", fset.Position(x.Pos()))
				case *ast.ChanType:
					t.Errorf("%s: a channel", fset.Position(x.Pos()))
				case *ast.SelectStmt:
					t.Errorf("%s: a select", fset.Position(x.Pos()))
				case *ast.MapType:
					t.Errorf("%s: a map (random iteration order)", fset.Position(x.Pos()))
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == "time" && forbiddenCalls[x.Sel.Name] {
						t.Errorf("%s: time.%s reads the wall clock", fset.Position(x.Pos()), x.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
