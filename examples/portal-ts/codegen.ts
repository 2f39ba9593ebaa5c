import type { CodegenConfig } from "@graphql-codegen/cli";

// Types come from the gateway's committed SDL; TEC_SCHEMA points at another file (the
// tests check that a schema missing a field the client asks for fails the build).
const config: CodegenConfig = {
  schema: process.env.TEC_SCHEMA ?? "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", Date: "string", JSON: "unknown" },
      },
    },
  },
  ignoreNoDocuments: false,
  // Node runs the output as ES modules: relative imports end in .js.
  emitLegacyCommonJSImports: false,
};

export default config;
