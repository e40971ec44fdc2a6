package schema_test

import (
	"encoding/json"
	"fmt"

	"github.com/corsgate/corsgate/schema"
)

// ExampleSchema_Validate checks a security/cors block with two mistakes:
// max_age written as a number, and allow_origin missing its final s. Both
// are reported at once, each with its JSON path and what to write instead.
// The formats here accept everything; corsgate passes its own grammar
// (policy.Schema).
func ExampleSchema_Validate() {
	var formats []schema.Format
	for _, name := range schema.FormatNames {
		formats = append(formats, schema.Format{Name: name, Check: func(any) error { return nil }})
	}
	s, err := schema.New(formats...)
	if err != nil {
		panic(err)
	}

	block := `{"max_age": 12, "allow_origin": ["https://app.example.com"]}`
	var v any
	if err := json.Unmarshal([]byte(block), &v); err != nil {
		panic(err)
	}
	for _, e := range s.Validate(schema.ServicePolicy, v, `extra_config["security/cors"]`) {
		fmt.Println(e)
	}
	// Output:
	// extra_config["security/cors"].allow_origin: unknown key "allow_origin"; did you mean "allow_origins"?
	// extra_config["security/cors"].max_age: 12 is a number, not a string; write a duration string such as "12h", "30m" or "90s"
}

// ExampleScanJSON finds a key written twice, which encoding/json would
// silently resolve to the last value.
func ExampleScanJSON() {
	text := `{
  "extra_config": {
    "security/cors": {
      "max_age": "12h",
      "max_age": "10m"
    }
  }
}`
	_, dups, err := schema.ScanJSON([]byte(text))
	if err != nil {
		panic(err)
	}
	for _, d := range dups {
		fmt.Printf("%s: line %d repeats line %d\n", d.Path(), d.Line, d.First)
	}
	// Output:
	// extra_config["security/cors"].max_age: line 5 repeats line 4
}
