package mutant

import "testing"

func TestRegister(t *testing.T) {
	pass := func(string) *Datagram { return nil }
	Register("mutant-test", Mutant{Name: "b", Kills: []string{"x"}, Datagram: pass}, Mutant{Name: "a", Kills: []string{"y"}, Datagram: pass})
	var names []string
	for _, m := range Mutants("mutant-test") {
		names = append(names, m.Name)
	}
	if len(names) != 3 || names[0] != None || names[1] != "a" || names[2] != "b" {
		t.Errorf("Mutants: %v, want none, a, b", names)
	}
	if m, ok := Lookup("mutant-test", "a"); !ok || m.Kills[0] != "y" {
		t.Errorf("Lookup a: %+v %v", m, ok)
	}
	if _, ok := Lookup("mutant-test", "c"); ok {
		t.Error("Lookup of an unknown mutant succeeded")
	}
	for _, bad := range [][]Mutant{
		{{Name: "k", Datagram: pass}},                        // no Kills
		{{Name: None, Kills: []string{"x"}, Datagram: pass}}, // None is every protocol's
		{{Name: "m", Kills: []string{"x"}}},                  // no mutation
		{{Name: "d", Kills: []string{"x"}, Datagram: pass}, {Name: "d", Kills: []string{"x"}, Datagram: pass}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", bad)
				}
			}()
			Register("mutant-test-bad", bad...)
		}()
	}
}
