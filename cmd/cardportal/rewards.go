package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/sqlstore"
)

// rewardsSweepEvery is how often points and offer credits catch up with new postings.
// Both sweeps find what is missing rather than what is new since last time, so the
// interval only sets how soon a purchase shows its points.
const rewardsSweepEvery = time.Minute

// buildRewards returns the rewards and offers services, loading the demo issuer's
// programme first when the demo is on (a no-op for what is already stored).
func buildRewards(ctx context.Context, c config, s *sqlstore.Store, now func() time.Time, log *slog.Logger) (*rewards.Service, *offers.Service, error) {
	if c.Demo {
		if err := s.LoadRewards(ctx, demo.Rewards(now())); err != nil {
			return nil, nil, err
		}
	}
	return rewards.New(s, now, log), offers.New(s, s, now, log), nil
}

// sweepRewards runs both sweeps once. Every instance may run it: points are unique per
// posting and offer credits per offer and card.
func sweepRewards(ctx context.Context, r *rewards.Service, o *offers.Service, log *slog.Logger) {
	if n, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
		log.Error("rewards sweep", "err", err)
	} else if n > 0 {
		log.Info("points entries added", "entries", n)
	}
	if n, err := o.Sweep(ctx); err != nil && ctx.Err() == nil {
		log.Error("offers sweep", "err", err)
	} else if n > 0 {
		log.Info("offer credits posted", "credits", n)
	}
}

// runRewardsEvery sweeps until ctx ends.
func runRewardsEvery(ctx context.Context, r *rewards.Service, o *offers.Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sweepRewards(ctx, r, o, log)
		}
	}
}
