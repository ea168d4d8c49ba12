# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
RUN npm ci --ignore-scripts
COPY cli ./cli
COPY server ./server
COPY seed ./seed
COPY app ./app
COPY profiles ./profiles
COPY terminology ./terminology
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled code and production dependencies only, as the unprivileged node user.
FROM node:20-slim
# SEED=none: a production image starts empty (the demo pôle only when asked, SEED=demo).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data SEED=none
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/profiles ./profiles
COPY --from=build /app/terminology ./terminology
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=32", "dist/cli/maillage.js", "serve"]
