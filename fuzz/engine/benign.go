package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/protospec/protospec/internal/protocol"
)

// BenignAll is the --benign value that selects a protocol's built-in
// sets for the targets of the run: the protocol's set BenignCommon, and
// the set of each target's server family (its launcher name).
const BenignAll = "builtin"

// BenignCommon names the set of differences any two servers may show
// within the RFCs, whatever their family.
const BenignCommon = "rfc"

// benignSets holds each protocol's built-in sets, by set name.
var benignSets = protocol.NewRegistry[map[string][]BenignRule]("benign rule sets")

// RegisterBenign registers protocol's built-in benign rule sets: every
// NAME.txt at the top of fsys (the protocol's fuzz/<p>/benign/, embedded)
// is the set NAME, in the format BenignRule describes. A set named after a
// server family (a launcher name: "nginx") holds that family's known,
// RFC-permitted differences; the set "rfc" those of any pair. A file that
// does not parse, or a protocol registered twice, is a programming error
// and panics.
//
//	//go:embed benign/*.txt
//	var benignFS embed.FS
//
//	func init() { engine.RegisterBenign(contract.Name, must(fs.Sub(benignFS, "benign"))) }
func RegisterBenign(protocolName string, fsys fs.FS) {
	sets := map[string][]BenignRule{}
	files, err := fs.Glob(fsys, "*.txt")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("engine: benign sets of %s: no NAME.txt files (%v)", protocolName, err))
	}
	for _, f := range files {
		file, err := fsys.Open(f)
		if err != nil {
			panic(fmt.Sprintf("engine: benign set %s/%s: %v", protocolName, f, err))
		}
		rules, err := parseBenign(protocolName+"/"+f, file)
		file.Close()
		if err != nil {
			panic(err.Error())
		}
		sets[strings.TrimSuffix(f, ".txt")] = rules
	}
	benignSets.Register(protocolName, sets)
}

// BenignSetNames lists the built-in sets of a protocol, in order.
func BenignSetNames(protocolName string) []string {
	sets, _ := benignSets.Lookup(protocolName)
	var out []string
	for n := range sets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ResolveBenign turns one --benign value into rules: BenignAll (the
// protocol's common set and the set of each target's family), the name of
// a built-in set, or a file. It also returns what it used ("rfc",
// "nginx", "benign.txt"), for the report.
func ResolveBenign(protocolName, value string, targetNames []string) ([]BenignRule, []string, error) {
	sets, _ := benignSets.Lookup(protocolName)
	if value == BenignAll {
		var rules []BenignRule
		var used []string
		add := func(n string) {
			if r, ok := sets[n]; ok && !contains(used, n) {
				rules = append(rules, r...)
				used = append(used, n)
			}
		}
		add(BenignCommon)
		for _, t := range targetNames {
			add(family(t))
		}
		return rules, used, nil
	}
	if r, ok := sets[value]; ok {
		return r, []string{value}, nil
	}
	if _, err := os.Stat(value); err == nil || strings.ContainsAny(value, `/\`) || path.Ext(value) != "" {
		rules, err := LoadBenign(value)
		return rules, []string{value}, err
	}
	known := append([]string{BenignAll}, BenignSetNames(protocolName)...)
	return nil, nil, fmt.Errorf("engine: --benign %s: neither a file nor a built-in set of %s (known: %s)", value, protocolName, strings.Join(known, ", "))
}
