// The grpc-js baselines use protobuf through @grpc/proto-loader, because that is what a user
// picking gRPC gets; a hand-written service with msgpack (de)serialisers would measure grpc's
// transport but not the codec a gRPC user actually runs. proto-loader reads files only, so the
// inline .proto is written into the run's private temp dir first.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = `syntax = "proto3";
package bench;

// messageexp of the original demo: nanosecond timestamp + 1..65 uppercase characters
message MessageExp {
  int64 ts = 1;
  string text = 2;
}

message Ack {
  uint64 count = 1;
}

// server streaming of raw chunks: the server's peer knows how many (its params)
message DownloadRequest {}

message Chunk {
  bytes data = 1;
}

service Bench {
  rpc Stream (stream MessageExp) returns (Ack);
  rpc Echo (MessageExp) returns (MessageExp);
  rpc Download (DownloadRequest) returns (stream Chunk);
}
`;

/** MessageExp as proto-loader hands it over with `longs: String`: int64 travels as a decimal
 *  string (JavaScript numbers cannot hold it, and proto-loader has no bigint mode). */
export interface ProtoMessageExp {
  ts: string;
  text: string;
}

export interface BenchClient extends grpc.Client {
  Stream(callback: (err: grpc.ServiceError | null, ack?: { count: string }) => void): grpc.ClientWritableStream<ProtoMessageExp>;
  Echo(req: ProtoMessageExp, callback: (err: grpc.ServiceError | null, res?: ProtoMessageExp) => void): grpc.ClientUnaryCall;
  Download(req: Record<string, never>): grpc.ClientReadableStream<ProtoChunk>;
}

/** Chunk as proto-loader hands it over: `bytes` arrive as a Buffer. */
export interface ProtoChunk {
  data: Buffer;
}

export interface BenchService {
  readonly service: grpc.ServiceDefinition;
  readonly Client: new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => BenchClient;
}

export function loadBenchService(tmpDir: string, role: string): BenchService {
  // one file per role: both peers share the temp dir and may load at the same moment
  const file = path.join(tmpDir, `bench-${role}.proto`);
  writeFileSync(file, PROTO);
  const def = protoLoader.loadSync(file, { keepCase: true, longs: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { bench: { Bench: grpc.ServiceClientConstructor } };
  const ctor = pkg.bench.Bench;
  return { service: ctor.service, Client: ctor as unknown as BenchService['Client'] };
}

export const grpcAddress = (socketPath: string): string => `unix://${socketPath}`;

export async function startGrpcServer(socketPath: string, svc: BenchService, impl: grpc.UntypedServiceImplementation): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(svc.service, impl);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(grpcAddress(socketPath), grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return server;
}

export async function connectGrpc(socketPath: string, svc: BenchService): Promise<BenchClient> {
  const client = new svc.Client(grpcAddress(socketPath), grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
  return client;
}

export const toProto = (m: { ts: bigint; text: string }): ProtoMessageExp => ({ ts: m.ts.toString(), text: m.text });
