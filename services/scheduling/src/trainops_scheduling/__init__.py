"""trainops scheduling: trainings, trainers and sessions across cities and time zones."""
