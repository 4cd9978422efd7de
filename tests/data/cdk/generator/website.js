// serverless-website as a CDK developer writes it; `bad` switches in the usual mistakes.
const cdk = require('aws-cdk-lib');
const { Stack, Duration, RemovalPolicy } = cdk;
const s3 = require('aws-cdk-lib/aws-s3');
const s3n = require('aws-cdk-lib/aws-s3-notifications');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const lambda = require('aws-cdk-lib/aws-lambda');
const sources = require('aws-cdk-lib/aws-lambda-event-sources');
const apigw = require('aws-cdk-lib/aws-apigateway');
const sqs = require('aws-cdk-lib/aws-sqs');
const iam = require('aws-cdk-lib/aws-iam');

class WebsiteStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const bad = props.bad || {};
    this.templateOptions.metadata = { archlint: { architectures: ['serverless-website'] } };

    const privateBucket = (name) => new s3.Bucket(this, name, {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
    });

    // Static site: S3 through CloudFront with OAC.
    const siteBucket = privateBucket('SiteBucket');
    const thumbnailsBucket = privateBucket('ThumbnailsBucket');
    new cloudfront.Distribution(this, 'SiteDistribution', {
      defaultRootObject: 'index.html',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(siteBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: bad.siteNotCached
          ? cloudfront.CachePolicy.CACHING_DISABLED
          : cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        'thumbnails/*': {
          origin: origins.S3BucketOrigin.withOriginAccessControl(thumbnailsBucket),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        },
      },
    });

    // Data: global tables (TableV2 with a replica), or single-region tables.
    const table = (name, key, stream) => bad.singleRegion
      ? new dynamodb.Table(this, name, {
        partitionKey: { name: key, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        stream: stream ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
        removalPolicy: RemovalPolicy.RETAIN,
      })
      : new dynamodb.TableV2(this, name, {
        partitionKey: { name: key, type: dynamodb.AttributeType.STRING },
        dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
        replicas: [{ region: 'eu-west-1' }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    const postsTable = table('PostsTable', 'postId', false);
    const usersTable = table('UsersTable', 'email', true);

    // Public REST API -> Lambda -> DynamoDB, GET responses cached at the stage.
    const apiFn = new lambda.Function(this, 'ApiHandler', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'app.handler',
      code: lambda.Code.fromAsset('src/api'),
      environment: { POSTS_TABLE: postsTable.tableName, USERS_TABLE: usersTable.tableName },
    });
    if (!bad.apiWithoutTableAccess) {
      postsTable.grantReadData(apiFn);
      usersTable.grantWriteData(apiFn);
    }
    const api = new apigw.RestApi(this, 'BlogApi', {
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        ...(bad.apiNotCached ? {} : {
          cacheClusterEnabled: true,
          cacheClusterSize: '0.5',
          methodOptions: { '/*/GET': { cachingEnabled: true, cacheTtl: Duration.minutes(5) } },
        }),
      },
    });
    const integration = new apigw.LambdaIntegration(apiFn);
    const posts = api.root.addResource('posts');
    posts.addMethod('GET', integration);
    posts.addResource('{postId}').addMethod('GET', new apigw.LambdaIntegration(apiFn, {
      cacheKeyParameters: ['method.request.path.postId'],
    }), { requestParameters: { 'method.request.path.postId': true } });
    const users = api.root.addResource('users', {
      defaultCorsPreflightOptions: { allowOrigins: apigw.Cors.ALL_ORIGINS, allowMethods: ['POST'] },
    });
    users.addMethod('POST', integration);

    // Welcome e-mail from the users-table stream, through SES with the role.
    const welcomeDlq = new sqs.Queue(this, 'WelcomeEmailDLQ', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    const welcomeFn = new lambda.Function(this, 'WelcomeEmail', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'app.handler',
      code: lambda.Code.fromAsset('src/welcome'),
      environment: { SENDER: 'welcome@example.com' },
    });
    welcomeFn.addEventSource(new sources.DynamoEventSource(usersTable, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 10,
      retryAttempts: 3,
      bisectBatchOnError: true,
      onFailure: new sources.SqsDlq(welcomeDlq),
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
    }));
    if (!bad.noSesPermission) {
      welcomeFn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [this.formatArn({ service: 'ses', resource: 'identity', resourceName: 'example.com' })],
      }));
    }

    // Thumbnails: uploads -> function -> separate thumbnails bucket.
    const uploadBucket = privateBucket('UploadBucket');
    const thumbDlq = new sqs.Queue(this, 'ThumbnailDLQ', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    const thumbFn = new lambda.Function(this, 'Thumbnailer', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'app.handler',
      code: lambda.Code.fromAsset('src/thumbnails'),
      memorySize: 1024,
      timeout: Duration.minutes(1),
      environment: { THUMBNAILS_BUCKET: thumbnailsBucket.bucketName },
      retryAttempts: 2,
      onFailure: new (require('aws-cdk-lib/aws-lambda-destinations').SqsDestination)(thumbDlq),
    });
    if (bad.writesBackToUploads) {
      uploadBucket.grantReadWrite(thumbFn);
    } else {
      uploadBucket.grantRead(thumbFn);
      if (!bad.thumbnailsNotWritable) thumbnailsBucket.grantPut(thumbFn);
    }
    uploadBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(thumbFn));
  }
}

// What the cdk CLI passes by default (path metadata, version reporting, asset metadata).
const app = new cdk.App({
  outdir: process.argv[2] || 'cdk.out',
  context: {
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:version-reporting': true,
    'aws:cdk:enable-asset-metadata': true,
  },
});
const env = { region: 'us-east-1' };
new WebsiteStack(app, 'WebsiteStack', { env });
new WebsiteStack(app, 'WebsiteBadStack', {
  env,
  bad: {
    siteNotCached: true, singleRegion: true, apiWithoutTableAccess: true, apiNotCached: true,
    noSesPermission: true, thumbnailsNotWritable: true,
  },
});
new WebsiteStack(app, 'WebsiteRecursiveBadStack', { env, bad: { writesBackToUploads: true } });
app.synth();
