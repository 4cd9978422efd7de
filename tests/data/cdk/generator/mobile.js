// mobile-app (MyTodoList) as a CDK developer writes it; `bad` switches in the usual mistakes.
const cdk = require('aws-cdk-lib');
const { Stack, Duration, RemovalPolicy } = cdk;
const s3 = require('aws-cdk-lib/aws-s3');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const lambda = require('aws-cdk-lib/aws-lambda');
const apigw = require('aws-cdk-lib/aws-apigateway');
const acm = require('aws-cdk-lib/aws-certificatemanager');
const cognito = require('aws-cdk-lib/aws-cognito');
const identitypool = require('aws-cdk-lib/aws-cognito-identitypool');
const iam = require('aws-cdk-lib/aws-iam');
const ec2 = require('aws-cdk-lib/aws-ec2');
const dax = require('aws-cdk-lib/aws-dax');

class MobileStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const bad = props.bad || {};
    this.templateOptions.metadata = { archlint: { architectures: ['mobile-app'] } };

    // Identity: user pool for the API, identity pool for each user's S3 folder.
    const userPool = new cognito.UserPool(this, 'UserPool', {
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: { minLength: 12, requireSymbols: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const client = userPool.addClient('MobileClient', {
      generateSecret: !!bad.clientSecret,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
    });
    const identityPool = new identitypool.IdentityPool(this, 'IdentityPool', {
      allowUnauthenticatedIdentities: false,
      authenticationProviders: { userPools: [new identitypool.UserPoolAuthenticationProvider({ userPool, userPoolClient: client })] },
    });
    const userFiles = new s3.Bucket(this, 'UserFiles', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
    });
    const sub = '${cognito-identity.amazonaws.com:sub}';
    identityPool.authenticatedRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [userFiles.arnForObjects(bad.wholeBucket ? '*' : `${sub}/*`)],
    }));
    identityPool.authenticatedRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [userFiles.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${sub}/*`] } },
    }));

    // Todo table, read through DAX from a function in private subnets.
    const todoTable = new dynamodb.Table(this, 'TodoTable', {
      partitionKey: { name: 'userId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'todoId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    let apiFn;
    if (bad.noDax) {
      apiFn = new lambda.Function(this, 'TodoHandler', {
        runtime: lambda.Runtime.PYTHON_3_12,
        handler: 'app.handler',
        code: lambda.Code.fromAsset('src/todo'),
        environment: { TODO_TABLE: todoTable.tableName },
      });
      todoTable.grantReadWriteData(apiFn);
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });
      const daxSg = new ec2.SecurityGroup(this, 'DaxSecurityGroup', { vpc, allowAllOutbound: false });
      const fnSg = new ec2.SecurityGroup(this, 'TodoHandlerSecurityGroup', { vpc, allowAllOutbound: false });
      daxSg.addIngressRule(fnSg, ec2.Port.tcp(9111), 'API function to DAX (TLS)');
      fnSg.addEgressRule(daxSg, ec2.Port.tcp(9111), 'DAX (TLS)');
      const daxRole = new iam.Role(this, 'DaxServiceRole', {
        assumedBy: new iam.ServicePrincipal('dax.amazonaws.com'),
      });
      todoTable.grantReadWriteData(daxRole);
      const subnetGroup = new dax.CfnSubnetGroup(this, 'DaxSubnetGroup', {
        subnetIds: vpc.isolatedSubnets.map((s) => s.subnetId),
      });
      const cluster = new dax.CfnCluster(this, 'DaxCluster', {
        iamRoleArn: daxRole.roleArn,
        nodeType: 'dax.t3.small',
        replicationFactor: 3,
        subnetGroupName: subnetGroup.ref,
        securityGroupIds: [daxSg.securityGroupId],
        sseSpecification: { sseEnabled: true },
        clusterEndpointEncryptionType: 'TLS',
      });
      apiFn = new lambda.Function(this, 'TodoHandler', {
        runtime: lambda.Runtime.PYTHON_3_12,
        handler: 'app.handler',
        code: lambda.Code.fromAsset('src/todo'),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [fnSg],
        environment: {
          DAX_ENDPOINT: cluster.attrClusterDiscoveryEndpointUrl,
          TODO_TABLE: todoTable.tableName,
        },
      });
      apiFn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dax:GetItem', 'dax:BatchGetItem', 'dax:Query', 'dax:PutItem', 'dax:UpdateItem', 'dax:DeleteItem'],
        resources: [cluster.attrArn],
      }));
    }

    // The API: Cognito authorizer on every method, cached GETs, TLS 1.2 custom domain.
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'TodoAuthorizer', {
      cognitoUserPools: [userPool],
    });
    const api = new apigw.RestApi(this, 'TodoApi', {
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      disableExecuteApiEndpoint: true,
      domainName: {
        domainName: 'api.mytodolist.example',
        certificate: acm.Certificate.fromCertificateArn(this, 'ApiCertificate',
          'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000'),
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: bad.oldTls ? apigw.SecurityPolicy.TLS_1_0 : apigw.SecurityPolicy.TLS_1_2,
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.COGNITO, authorizer },
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        ...(bad.apiNotCached ? {} : {
          cacheClusterEnabled: true,
          cacheClusterSize: '0.5',
          methodOptions: {
            '/*/GET': { cachingEnabled: true, cacheDataEncrypted: true, cacheTtl: Duration.seconds(30) },
          },
        }),
      },
    });
    const cachedPerUser = (keys) => new apigw.LambdaIntegration(apiFn, { cacheKeyParameters: keys });
    const todos = api.root.addResource('todos');
    todos.addMethod('GET', cachedPerUser(['method.request.header.Authorization']), {
      requestParameters: { 'method.request.header.Authorization': true },
      // "temporarily" opened while debugging the app
      ...(bad.openGet ? { authorizationType: apigw.AuthorizationType.NONE } : {}),
    });
    todos.addMethod('POST', new apigw.LambdaIntegration(apiFn));
    const todo = todos.addResource('{todoId}');
    todo.addMethod('GET', cachedPerUser(['method.request.header.Authorization', 'method.request.path.todoId']), {
      requestParameters: {
        'method.request.header.Authorization': true,
        'method.request.path.todoId': true,
      },
    });
    todo.addMethod('PUT', new apigw.LambdaIntegration(apiFn));
    todo.addMethod('DELETE', new apigw.LambdaIntegration(apiFn));
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
new MobileStack(app, 'MobileStack', {});
new MobileStack(app, 'MobileBadStack', {
  bad: { clientSecret: true, wholeBucket: true, noDax: true, oldTls: true, apiNotCached: true, openGet: true },
});
app.synth();
