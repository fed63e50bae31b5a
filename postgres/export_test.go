package postgres

// Migrations is the embedded migrations, for tests that stop at a version to fill a
// database as an older release would have.
var Migrations = migrations
