import type { CodegenConfig } from '@graphql-codegen/cli';

// One typed client from the committed contract (schema.graphql), for both of the service's
// clients: the console's operations (web/src/api) and the command line's (src/client). Run from
// the repository root; `npm run build` checks that the generated files are current.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/api/**/*.graphql', 'src/client/operations/**/*.graphql'],
  generates: {
    'src/client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Operations as strings: they are sent as they are, with no GraphQL runtime in the
        // browser bundle or the command.
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        // The command runs as Node ES modules, which need the extension on relative imports.
        importExtension: '.js',
        scalars: { JSONObject: 'Record<string, unknown>', DateTime: 'string' },
      },
    },
  },
};

export default config;
