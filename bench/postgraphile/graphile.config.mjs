// PostGraphile 5 as `make bench` runs it (bench/postgraphile/__init__.py): the amber
// preset over the benchmark's PostgreSQL database, relations through link tables from
// @graphile-contrib/pg-many-to-many, range filters from postgraphile-plugin-connection-filter.
// No GraphiQL, no explain, no watch: a production configuration.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgManyToManyPreset } from "@graphile-contrib/pg-many-to-many";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgManyToManyPreset, PostGraphileConnectionFilterPreset],
  // Filters on columns without an index of their own (an event's end, a theme's status),
  // as PostGraphile 4 allowed by default: the gateway filters on them too.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_PORT || 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
