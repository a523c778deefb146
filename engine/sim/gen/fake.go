package gen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// fakers are the kinds of fake data, as written in YAML.
var fakers = map[string]func(f *gofakeit.Faker) any{
	"name":       func(f *gofakeit.Faker) any { return f.Name() },
	"first_name": func(f *gofakeit.Faker) any { return f.FirstName() },
	"last_name":  func(f *gofakeit.Faker) any { return f.LastName() },
	"email":      func(f *gofakeit.Faker) any { return f.Email() },
	"phone":      func(f *gofakeit.Faker) any { return f.Phone() },
	"company":    func(f *gofakeit.Faker) any { return f.Company() },
	"address":    func(f *gofakeit.Faker) any { return f.Address().Address },
	"street":     func(f *gofakeit.Faker) any { return f.Street() },
	"city":       func(f *gofakeit.Faker) any { return f.City() },
	"country":    func(f *gofakeit.Faker) any { return f.Country() },
	"latitude":   func(f *gofakeit.Faker) any { return f.Latitude() },
	"longitude":  func(f *gofakeit.Faker) any { return f.Longitude() },
	// serial looks like a device's: three letters, a dash, eight digits.
	"serial":   func(f *gofakeit.Faker) any { return strings.ToUpper(f.LetterN(3)) + "-" + f.DigitN(8) },
	"mac":      func(f *gofakeit.Faker) any { return f.MacAddress() },
	"ipv4":     func(f *gofakeit.Faker) any { return f.IPv4Address() },
	"word":     func(f *gofakeit.Faker) any { return f.Word() },
	"sentence": func(f *gofakeit.Faker) any { return f.Sentence() },
	"color":    func(f *gofakeit.Faker) any { return f.Color() },
}

// FakeKinds lists the kinds of fake data, sorted, for did-you-mean and the schema.
func FakeKinds() []string {
	out := make([]string, 0, len(fakers))
	for k := range fakers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type fake struct {
	f    *gofakeit.Faker
	make func(*gofakeit.Faker) any
}

func newFake(k *scenario.Fake, seed uint64) (*fake, bool, error) {
	make, ok := fakers[k.Kind]
	if !ok {
		return nil, false, fmt.Errorf("unknown kind `%s`; kinds: %s", k.Kind, strings.Join(FakeKinds(), ", "))
	}
	// NewFaker, not New: New(0) seeds from the OS, and seed 0 is a valid seed here.
	// Unlocked: a device's generators are not shared between goroutines.
	f := gofakeit.NewFaker(rand.NewPCG(seed, streamFake), false)
	return &fake{f: f, make: make}, k.Kind == "latitude" || k.Kind == "longitude", nil
}

func (g *fake) Next(*Sample) any { return g.make(g.f) }
