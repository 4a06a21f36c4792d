package workflow

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus series. A nil *metrics records nothing, so tests and the
// CLI need no registry.
type metrics struct {
	steps      *prometheus.CounterVec
	stepTime   *prometheus.HistogramVec
	ticketRuns *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_step_attempts_total",
			Help: "Step attempts by system, action kind and result (verified, retry, failed).",
		}, []string{"system", "kind", "result"}),
		stepTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "offboard_step_duration_seconds",
			Help:    "Time to apply and verify one step attempt, by system and action kind.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}, []string{"system", "kind"}),
		ticketRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboard_ticket_updates_total",
			Help: "Ticket updates delivered, or failed (to be retried, or permanently).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.steps, m.stepTime, m.ticketRuns)
	return m
}

func (m *metrics) step(system, kind, result string, took time.Duration) {
	if m == nil {
		return
	}
	m.steps.WithLabelValues(system, kind, result).Inc()
	m.stepTime.WithLabelValues(system, kind).Observe(took.Seconds())
}

func (m *metrics) ticket(result string) {
	if m != nil {
		m.ticketRuns.WithLabelValues(result).Inc()
	}
}
