// Events of a simple incident lifecycle for crash and stress children:
// step 0 opens (random impact and urgency), 1 assigns (random group), 2
// comments (random length), later steps acknowledge. Draws from `rng` in a
// fixed order, so a seed gives the same events everywhere.
//
//   slate::Envelope e;
//   slate::testing::SetIncidentStep(n % 4, "INC1", rng, &e);
#ifndef SLATE_TESTS_TESTING_INCIDENT_EVENTS_H_
#define SLATE_TESTS_TESTING_INCIDENT_EVENTS_H_

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "proto/events.pb.h"

namespace slate::testing {

inline void SetIncidentStep(int step, const std::string& number,
                            std::mt19937& rng, Envelope* e) {
  switch (step) {
    case 0:
      e->mutable_incident_opened()->set_number(number);
      e->mutable_incident_opened()->set_impact(1 + rng() % 3);
      e->mutable_incident_opened()->set_urgency(1 + rng() % 3);
      break;
    case 1:
      e->mutable_incident_assigned()->set_group(
          absl::StrCat("group-", rng() % 5));
      break;
    case 2:
      e->mutable_incident_commented()->set_text(std::string(rng() % 200, 'c'));
      break;
    default:
      e->mutable_incident_acknowledged()->set_by("desk");
      break;
  }
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_INCIDENT_EVENTS_H_
