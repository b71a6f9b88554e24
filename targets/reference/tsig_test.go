package reference

import "testing"

func TestParseTSIGKeys(t *testing.T) {
	keys, err := parseTSIGKeys("Protospec-Key:cHJvdG9zcGVj, b.example.:c2Vjb25k")
	if err != nil || len(keys) != 2 || keys["protospec-key."] != "cHJvdG9zcGVj" || keys["b.example."] != "c2Vjb25k" {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, bad := range []string{"nokey", "k:", ":c2Vj", "k:not base64!", "a..b:c2Vj"} {
		if _, err := parseTSIGKeys(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
