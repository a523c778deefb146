package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// choice picks one of its values, by cumulative weight.
type choice struct {
	rng     *rand.Rand
	values  []any
	cum     []float64 // nil: equal weights
	numeric bool
}

func newChoice(c *scenario.Choice, seed uint64) (*choice, error) {
	if len(c.Values) == 0 {
		return nil, fmt.Errorf("no values; give the values to pick from, e.g. values: [idle, running, fault]")
	}
	g := &choice{rng: newRand(seed, streamValue), values: make([]any, len(c.Values)), numeric: true}
	for i, v := range c.Values {
		g.values[i] = normalize(v)
		if _, ok := toFloat(v); !ok {
			g.numeric = false
		}
	}
	if len(c.Weights) == 0 {
		return g, nil
	}
	if len(c.Weights) != len(c.Values) {
		return nil, fmt.Errorf("%d weights for %d values; give one weight per value", len(c.Weights), len(c.Values))
	}
	sum := 0.0
	for i, w := range c.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("weight %v of value %v is not a number of 0 or more", w, c.Values[i])
		}
		sum += w
		g.cum = append(g.cum, sum)
	}
	if sum == 0 {
		return nil, fmt.Errorf("all weights are 0; give at least one value a positive weight")
	}
	return g, nil
}

func (c *choice) Next(*Sample) any {
	if c.cum == nil {
		return c.values[c.rng.IntN(len(c.values))]
	}
	return c.values[c.pick(c.rng.Float64()*c.cum[len(c.cum)-1])]
}

// pick is the value whose weight covers x, in [0, total): the first
// whose cumulative weight is above x, so that a value of weight 0 (its
// cumulative weight equal to the one before) is never picked, even at x 0.
func (c *choice) pick(x float64) int {
	return sort.Search(len(c.cum)-1, func(i int) bool { return c.cum[i] > x })
}

func checkP(name string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%s %v is not a probability; give 0 to 1", name, p)
	}
	return nil
}

type boolGen struct {
	rng *rand.Rand
	p   float64
}

func newBool(b *scenario.Bool, seed uint64) (*boolGen, error) {
	if err := checkP("p", b.P); err != nil {
		return nil, err
	}
	return &boolGen{rng: newRand(seed, streamValue), p: b.P}, nil
}

func (b *boolGen) Next(*Sample) any { return b.rng.Float64() < b.p }

// toggle gives its start value first, then flips with probability p
// after each sample.
type toggle struct {
	rng *rand.Rand
	v   bool
	p   float64
}

func newToggle(t *scenario.Toggle, seed uint64) (*toggle, error) {
	g := &toggle{rng: newRand(seed, streamValue), v: t.Start, p: 1}
	if t.P != nil {
		if err := checkP("p", *t.P); err != nil {
			return nil, err
		}
		g.p = *t.P
	}
	return g, nil
}

func (t *toggle) Next(*Sample) any {
	v := t.v
	if t.rng.Float64() < t.p {
		t.v = !t.v
	}
	return v
}

// markov gives its start state first, then moves along its transitions
// after each sample. States are indexed, and each row's targets sorted,
// so that map order never changes the values.
type markov struct {
	rng    *rand.Rand
	states []string
	rows   [][]edge // by state index
	cur    int
}

type edge struct {
	cum float64
	to  int
}

func newMarkov(m *scenario.Markov, seed uint64) (*markov, error) {
	if len(m.Transitions) == 0 {
		return nil, fmt.Errorf("no transitions; give from each state the probability of moving to others, e.g. transitions: {idle: {running: 0.1}}")
	}
	index := map[string]int{}
	g := &markov{rng: newRand(seed, streamValue)}
	add := func(s string) {
		if _, ok := index[s]; !ok {
			index[s] = -1
		}
	}
	for from, row := range m.Transitions {
		add(from)
		for to := range row {
			add(to)
		}
	}
	for s := range index {
		g.states = append(g.states, s)
	}
	sort.Strings(g.states)
	for i, s := range g.states {
		index[s] = i
	}
	start, ok := index[m.Start]
	if !ok {
		return nil, fmt.Errorf("start %q is not one of the states %s", m.Start, strings.Join(g.states, ", "))
	}
	g.cur = start
	g.rows = make([][]edge, len(g.states))
	for from, row := range m.Transitions {
		targets := make([]string, 0, len(row))
		for to := range row {
			targets = append(targets, to)
		}
		sort.Strings(targets)
		sum := 0.0
		for _, to := range targets {
			p := row[to]
			if err := checkP(fmt.Sprintf("probability from %s to %s", from, to), p); err != nil {
				return nil, err
			}
			if to == from {
				continue // staying is what is left over
			}
			sum += p
			g.rows[index[from]] = append(g.rows[index[from]], edge{cum: sum, to: index[to]})
		}
		if sum > 1+1e-9 {
			return nil, fmt.Errorf("probabilities from %s add up to %.4g; they must add up to 1 or less (the rest is staying)", from, sum)
		}
	}
	return g, nil
}

func (m *markov) Next(*Sample) any {
	v := m.states[m.cur]
	x := m.rng.Float64()
	for _, e := range m.rows[m.cur] {
		if x < e.cum {
			m.cur = e.to
			break
		}
	}
	return v
}
