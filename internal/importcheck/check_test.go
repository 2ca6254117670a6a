package importcheck

import (
	"slices"
	"strings"
	"testing"
)

const testDoc = `# design

| package | responsibility | may import | its tests may also import |
| --- | --- | --- | --- |
| ` + "`cmd/tool`" + ` | the binary | everything | - |
| ` + "`coordinator/...`" + ` | control plane | proto, shard (types), raft | internal/testutil |
| ` + "`proto/...`" + ` | generated code | grpc | - |
| ` + "`shard`" + ` | data plane | formats | compress, internal/testutil |
| ` + "`formats`" + ` | readers | compress | internal/testutil |
| ` + "`internal/testutil`" + ` | test helpers | - | - |

Groups:

| group | import paths |
| --- | --- |
| compress | ` + "`github.com/klauspost/compress/...`" + ` |
| raft | ` + "`github.com/hashicorp/raft/...`" + ` |
| grpc | ` + "`google.golang.org/grpc/...`" + ` |
`

const mod = "example.com/m"

func pkg(rel string, imports ...string) Package {
	p := Package{ImportPath: mod + "/" + rel}
	for _, i := range imports {
		p.Imports = append(p.Imports, full(i))
	}
	return p
}

// full prefixes the module to paths without a dot in their first element but with a slash or
// one of the table's rows (the test's shorthand); "fmt" and the like stay as they are.
func full(path string) string {
	if path == "fmt" || path == "os" || strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
		return path
	}
	return mod + "/" + path
}

func TestCheck_ReportsEachBrokenRule(t *testing.T) {
	tb, err := ParseTable(testDoc)
	if err != nil {
		t.Fatal(err)
	}
	withTests := func(p Package, test, xtest []string) Package {
		for _, i := range test {
			p.TestImports = append(p.TestImports, full(i))
		}
		for _, i := range xtest {
			p.XTestImports = append(p.XTestImports, full(i))
		}
		return p
	}
	tests := []struct {
		name       string
		pkgs       []Package
		exceptions []Exception
		want       []string // substrings, one per problem, in order
	}{
		{"all allowed", []Package{
			pkg("cmd/tool", "coordinator", "shard", "formats", "github.com/hashicorp/raft", "fmt"),
			pkg("coordinator", "coordinator/fsm", "proto/v1", "shard", "github.com/hashicorp/raft/x"),
			pkg("coordinator/fsm", "shard"),
			pkg("proto/v1", "google.golang.org/grpc", "proto"),
			withTests(pkg("shard", "formats", "os"), []string{"github.com/klauspost/compress/zstd", "internal/testutil"}, []string{"shard", "formats"}),
			pkg("formats", "github.com/klauspost/compress/gzip"),
			pkg("internal/testutil", "os"),
		}, nil, nil},
		{"data plane imports raft", []Package{pkg("formats", "github.com/hashicorp/raft")},
			nil, []string{"formats imports github.com/hashicorp/raft (raft): its row in DESIGN.md does not allow raft"}},
		{"data plane imports the control plane", []Package{pkg("shard", "coordinator/fsm")},
			nil, []string{"shard imports coordinator/fsm, whose row is above its own"}},
		{"import of a row below that the row does not name", []Package{pkg("coordinator", "formats")},
			nil, []string{"coordinator imports formats: its row in DESIGN.md does not allow formats"}},
		{"package without a row", []Package{pkg("worker", "fmt")},
			nil, []string{"worker has no row in the package table"}},
		{"third-party package in no group", []Package{pkg("shard", "github.com/some/lib")},
			nil, []string{"shard imports github.com/some/lib, which is in no third-party group"}},
		{"test-only group outside tests", []Package{pkg("shard", "github.com/klauspost/compress/zstd")},
			nil, []string{"shard imports github.com/klauspost/compress/zstd (compress): its row"}},
		{"test helper outside tests", []Package{pkg("formats", "internal/testutil")},
			nil, []string{"formats imports internal/testutil: its row in DESIGN.md does not allow internal/testutil"}},
		{"tests import upward", []Package{withTests(pkg("formats"), nil, []string{"shard"})},
			nil, []string{"formats (tests) imports shard, whose row is above its own"}},
		{"tests import a group of another row", []Package{withTests(pkg("formats"), []string{"google.golang.org/grpc"}, nil)},
			nil, []string{"formats (tests) imports google.golang.org/grpc (grpc)"}},
		{"exception allows an upward import", []Package{pkg("shard", "coordinator")},
			[]Exception{{From: "shard", To: "coordinator", Why: "item 1"}}, nil},
		{"unused exception", []Package{pkg("shard", "formats")},
			[]Exception{{From: "shard", To: "coordinator", Why: "item 1"}},
			[]string{"the exception shard -> coordinator (item 1) allows no import any more: delete it"}},
		{"package outside the module", []Package{{ImportPath: "other.org/x"}},
			nil, []string{"other.org/x is not a package of module example.com/m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tb, mod, tt.pkgs, tt.exceptions)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseTable_ReadsRowsAndGroups(t *testing.T) {
	tb, err := ParseTable(testDoc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range tb.Rows {
		names = append(names, r.Name())
	}
	if want := []string{"cmd/tool", "coordinator", "proto", "shard", "formats", "internal/testutil"}; !slices.Equal(names, want) {
		t.Errorf("rows %q, want %q", names, want)
	}
	if got := len(tb.Rows[0].Packages); got != len(tb.Rows)-1 {
		t.Errorf("everything allows %d rows, want every row below (%d)", got, len(tb.Rows)-1)
	}
	if !tb.Rows[0].Groups["raft"] || !tb.Rows[1].Groups["raft"] || tb.Rows[3].Groups["raft"] {
		t.Errorf("raft allowed: cmd %v, coordinator %v, shard %v", tb.Rows[0].Groups["raft"], tb.Rows[1].Groups["raft"], tb.Rows[3].Groups["raft"])
	}
	if r, ok := tb.rowOf("coordinator/fsm/store"); !ok || r.Name() != "coordinator" {
		t.Errorf("coordinator/fsm/store: row %v, %v", r, ok)
	}
	if _, ok := tb.rowOf("coordinatorx"); ok {
		t.Error("coordinatorx is covered by the coordinator/... row")
	}
}

func TestParseTable_RefusesInconsistentTables(t *testing.T) {
	header := "| package | responsibility | may import | its tests may also import |\n| --- | --- | --- | --- |\n"
	groups := "\n| group | import paths |\n| --- | --- |\n| raft | `github.com/hashicorp/raft/...` |\n"
	tests := []struct {
		name, doc, want string
	}{
		{"no table", "# nothing here\n", "no package table"},
		{"missing column", "| package | may import |\n| --- | --- |\n| `a` | - |\n", `no column "its tests may also import"`},
		{"upward row", header + "| `a` | x | - | - |\n| `b` | y | a | - |\n", "DESIGN.md:4: row b: names a, which is not below it"},
		{"self", header + "| `a` | x | a | - |\n", "names a, which is not below it"},
		{"unknown name", header + "| `a` | x | nosuch | - |\n", `"nosuch" is neither a package row nor a third-party group`},
		{"unknown name in tests column", header + "| `a` | x | - | nosuch |\n", `"nosuch" is neither`},
		{"two rows", header + "| `a` | x | - | - |\n| `a/...` | y | - | - |\n", "package a has two rows"},
		{"row named like a group", header + "| `raft` | x | - | - |\n" + groups, "raft is both a package row and a third-party group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTable(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
