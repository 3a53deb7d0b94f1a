"""The web console on AWS: its files in a private S3 bucket behind a CloudFront distribution that
also sends `/api/*` to the REST API, so console and API share one origin (no CORS, no cookies).

`resources()` is what `infra/package.py` adds to the packaged template (never to resources.json:
the functions get no access to this bucket, and `make run` serves the files itself,
`infra/web_static.py`). The distribution:
- serves the bucket through an origin access control (the bucket stays private);
- rewrites every path without a file extension to /index.html (a CloudFront function), so a
  client-side route survives a reload, without turning the API's 404s into the page;
- sends `/api/*` to API Gateway's stage, uncached, with every viewer header but Host
  (`Authorization` included), and every method;
- adds the same security headers `make run` sends (CSP allowing only this origin and the
  WebSocket API, no framing, nosniff, HSTS).

`python -m infra.web_hosting upload BUCKET` copies web/dist into the bucket: hashed assets cached
for a year, everything else revalidated on every load.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from infra.web_static import DIST, IMMUTABLE, REVALIDATE, content_type

# CloudFront's managed policies (the same ids in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# Chalice's logical ids for the REST API and the WebSocket API in `chalice package` output; its
# stage (`api_gateway_stage`) is `api`, and every route starts with /api: /api/x is /api/api/x there.
REST_API = "RestAPI"  # `${RestAPI}` and `${WebsocketAPI}` below name them in Fn::Sub strings
STAGE = "api"

REWRITE_FUNCTION = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def _csp(websocket: bool) -> Any:
    connect = "'self' wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}" if websocket else "'self'"
    return {
        "Fn::Sub": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    }


def resources(websocket: bool = True) -> dict[str, Any]:
    """The console's bucket, its access, the distribution and the outputs, for a merge template."""
    api_domain = {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    return {
        "Resources": {
            "WebBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                },
            },
            "WebBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "WebBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudFrontReadsTheConsole",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Sub": "${WebBucket.Arn}/*"},
                                "Condition": {
                                    "StringEquals": {
                                        "AWS:SourceArn": {
                                            "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                                            "distribution/${WebDistribution}"
                                        }
                                    }
                                },
                            }
                        ],
                    },
                },
            },
            "WebOriginAccessControl": {
                "Type": "AWS::CloudFront::OriginAccessControl",
                "Properties": {
                    "OriginAccessControlConfig": {
                        "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                        "OriginAccessControlOriginType": "s3",
                        "SigningBehavior": "always",
                        "SigningProtocol": "sigv4",
                    }
                },
            },
            "WebRewriteFunction": {
                "Type": "AWS::CloudFront::Function",
                "Properties": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-web-routes"},
                    "AutoPublish": True,
                    "FunctionCode": REWRITE_FUNCTION,
                    "FunctionConfig": {
                        "Comment": "Console screens (paths without a file extension) get /index.html",
                        "Runtime": "cloudfront-js-2.0",
                    },
                },
            },
            "WebResponseHeaders": {
                "Type": "AWS::CloudFront::ResponseHeadersPolicy",
                "Properties": {
                    "ResponseHeadersPolicyConfig": {
                        "Name": {"Fn::Sub": "${AWS::StackName}-web"},
                        "SecurityHeadersConfig": {
                            "ContentSecurityPolicy": {"ContentSecurityPolicy": _csp(websocket), "Override": True},
                            "ContentTypeOptions": {"Override": True},
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                            "ReferrerPolicy": {"ReferrerPolicy": "same-origin", "Override": True},
                            "StrictTransportSecurity": {
                                "AccessControlMaxAgeSec": 63072000,
                                "IncludeSubdomains": True,
                                "Override": True,
                            },
                        },
                    }
                },
            },
            "WebDistribution": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Comment": {"Fn::Sub": "${AWS::StackName}: the web console and /api"},
                        "Enabled": True,
                        "HttpVersion": "http2and3",
                        "IPV6Enabled": True,
                        "PriceClass": "PriceClass_100",
                        "DefaultRootObject": "index.html",
                        "Origins": [
                            {
                                "Id": "console",
                                "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                                "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                                "S3OriginConfig": {"OriginAccessIdentity": ""},
                            },
                            {
                                "Id": "api",
                                "DomainName": api_domain,
                                "OriginPath": f"/{STAGE}",
                                "CustomOriginConfig": {
                                    "OriginProtocolPolicy": "https-only",
                                    "OriginSSLProtocols": ["TLSv1.2"],
                                },
                            },
                        ],
                        "DefaultCacheBehavior": {
                            "TargetOriginId": "console",
                            "ViewerProtocolPolicy": "redirect-to-https",
                            "AllowedMethods": ["GET", "HEAD"],
                            "CachePolicyId": CACHING_OPTIMIZED,
                            "ResponseHeadersPolicyId": {"Ref": "WebResponseHeaders"},
                            "Compress": True,
                            "FunctionAssociations": [
                                {
                                    "EventType": "viewer-request",
                                    "FunctionARN": {"Fn::GetAtt": ["WebRewriteFunction", "FunctionARN"]},
                                }
                            ],
                        },
                        "CacheBehaviors": [
                            {
                                "PathPattern": "/api/*",
                                "TargetOriginId": "api",
                                "ViewerProtocolPolicy": "https-only",
                                "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                                "CachePolicyId": CACHING_DISABLED,
                                "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
                                "Compress": True,
                            }
                        ],
                    }
                },
            },
        },
        "Outputs": {
            "ConsoleUrl": {
                "Description": "The web console and the API (/api) on one origin; use it as PublicUrl",
                "Value": {"Fn::Sub": "https://${WebDistribution.DomainName}"},
            },
            "WebBucketName": {
                "Description": "Where `python -m infra.web_hosting upload` puts web/dist",
                "Value": {"Ref": "WebBucket"},
            },
        },
    }


def upload(bucket: str, dist: Path = DIST, s3: Any = None) -> list[str]:
    """Copies the built console into `bucket`: assets first (immutable), index.html last, so a
    visitor never gets a page whose assets are not there yet. Old assets stay for open tabs."""
    if not (dist / "index.html").is_file():
        raise SystemExit("web/dist is not built: run `make web` first")
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    files = sorted((p for p in dist.rglob("*") if p.is_file()), key=lambda p: p.name == "index.html")
    keys = []
    for path in files:
        key = path.relative_to(dist).as_posix()
        kind = content_type(path)
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        keys.append(key)
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Upload the built web console (web/dist) to its bucket.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upload", help="copy web/dist into the WebBucketName output's bucket")
    up.add_argument("bucket")
    args = parser.parse_args(argv)
    keys = upload(args.bucket)
    print(f"uploaded {len(keys)} files to s3://{args.bucket}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
