package ftpd

import "testing"

// TestFreePorts: L-1 below L, T-1 below T, the passive range
// consecutive, all distinct.
func TestFreePorts(t *testing.T) {
	p, err := FreePorts("127.0.0.1", Ports)
	if err != nil {
		t.Fatal(err)
	}
	if p[dataPort] != p[0]-1 || p[tlsDataPort] != p[tlsPort]-1 {
		t.Errorf("ports %v: L-1 or T-1 misplaced", p)
	}
	for i := 2; i <= PassivePorts; i++ {
		if p[i] != p[i-1]+1 {
			t.Errorf("ports %v: the passive range is not consecutive", p)
		}
	}
	seen := map[int]bool{}
	for _, x := range p {
		if seen[x] {
			t.Errorf("ports %v: %d twice", p, x)
		}
		seen[x] = true
	}
	if _, err := FreePorts("127.0.0.1", 3); err == nil {
		t.Error("a wrong count was accepted")
	}
}
